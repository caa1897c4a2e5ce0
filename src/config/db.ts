import { z } from 'zod';
import { booleanString, defineArea, integer } from './area.js';

/** PostgreSQL: the server to use, or the embedded one started in development. */
export const dbArea = defineArea({
  schema: z.object({
    DATABASE_URL: z.url().optional(),
    DATABASE_POOL_MAX: integer(1, 200).default(16),
    // The hot path's own pool (sale lookup and write, session check, product pages): its
    // connections plan those statements once (generic plans). See src/deps.ts.
    DATABASE_HOT_POOL_MAX: integer(1, 200).default(16),
    // libpq's session options for every connection (node-pg reads it for the main pool).
    PGOPTIONS: z.string().optional(),
    EMBEDDED_PG_DIR: z.string().default('.data/postgres'),
    EMBEDDED_PG_PORT: integer(1, 65535).default(54329),
    MIGRATE_ON_START: booleanString.optional(),
  }),
  requiredInProduction: {
    DATABASE_URL: 'the embedded PostgreSQL is for development only',
  },
  build: (env, runtime) => ({
    database: {
      url: env.DATABASE_URL,
      poolMax: env.DATABASE_POOL_MAX,
      hotPoolMax: env.DATABASE_HOT_POOL_MAX,
      sessionOptions: env.PGOPTIONS,
      embeddedDir: env.EMBEDDED_PG_DIR,
      embeddedPort: env.EMBEDDED_PG_PORT,
      migrateOnStart: env.MIGRATE_ON_START ?? runtime.nodeEnv === 'development',
    },
  }),
});
