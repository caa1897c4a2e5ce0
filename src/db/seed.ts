// `pnpm db:seed`: a demo shop with an owner, a manager and a cashier; prints their logins.
// Safe to run twice: an existing demo shop is kept and its logins printed again.
import { sql } from 'drizzle-orm';
import { loadConfigOrExit } from '../config.js';
import { newId } from '../lib/ids.js';
import { hashPassword } from '../modules/auth/password.js';
import { trialEnd } from '../modules/business/subscription.rules.js';
import { createDb, createPool } from './client.js';
import { resolveDatabaseUrl } from './embedded.js';
import { runMigrations } from './migrate.js';
import { businesses, users } from './schema/index.js';

const DEMO_PASSWORD = 'demo-password-123';
const DEMO_USERS = [
  { role: 'owner', name: 'Wanjiku Owner', email: 'owner@demo.pos.local' },
  { role: 'manager', name: 'Otieno Manager', email: 'manager@demo.pos.local' },
  { role: 'cashier', name: 'Akinyi Cashier', email: 'cashier@demo.pos.local' },
] as const;

const config = loadConfigOrExit();
const database = await resolveDatabaseUrl(config);
const pool = createPool({ url: database.url, poolMax: 2, applicationName: 'backend-api-seed' });
await runMigrations(pool);
const db = createDb(pool);

const existing = await db.execute<{ id: string }>(
  sql`select id from users where lower(email) = ${DEMO_USERS[0].email}`,
);
if (existing.rows.length === 0) {
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  await db.transaction(async (tx) => {
    const businessId = newId();
    await tx.insert(businesses).values({
      id: businessId,
      name: 'Duka la Mfano',
      phone: '254700000001',
      currentPeriodEnd: trialEnd(new Date()),
    });
    await tx
      .insert(users)
      .values(DEMO_USERS.map((user) => ({ id: newId(), businessId, passwordHash, ...user })));
  });
  process.stdout.write('Demo shop "Duka la Mfano" created.\n');
} else {
  process.stdout.write('Demo shop already present.\n');
}
process.stdout.write(`\nLog in with POST /auth/login (password for all: ${DEMO_PASSWORD}):\n`);
for (const user of DEMO_USERS) process.stdout.write(`  ${user.role.padEnd(8)} ${user.email}\n`);

await pool.end();
await database.stop();
