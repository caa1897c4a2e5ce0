import { defineConfig } from 'drizzle-kit';

// Only `generate` is used: it diffs src/db/schema against the committed snapshots, offline.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './drizzle',
  casing: 'snake_case',
});
