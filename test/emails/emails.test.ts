import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  businesses,
  deadJobs,
  emailLog,
  outbox,
  products,
  productStock,
} from '../../src/db/schema/index.js';
import { sendOutboxEmail } from '../../src/emails/email.job.js';
import { queueLowStockDigests } from '../../src/emails/low-stock-digest.job.js';
import { createMailer } from '../../src/emails/mailer.js';
import { writeOutbox } from '../../src/jobs/outbox.js';
import { newId } from '../../src/lib/ids.js';
import { createLogger } from '../../src/lib/logger.js';
import { testEnv } from '../helpers/app.js';
import { createBusiness, type TestBusiness } from '../helpers/factories.js';
import { eventually, sleep, useJobs } from '../helpers/jobs.js';
import { startSmtpSink, type ReceivedMail } from '../helpers/smtp.js';

const smtp = await startSmtpSink();
const jobs = useJobs({ env: { SMTP_URL: smtp.url } });
afterAll(() => smtp.close());

async function business(): Promise<TestBusiness> {
  const created = await createBusiness(jobs.deps, { name: 'Mama <Mboga> & "Sons"' });
  jobs.businessIds.add(created.id);
  return created;
}

async function queueEmail(b: TestBusiness, type: string, payload: Record<string, unknown>) {
  const messageId = newId();
  await writeOutbox(jobs.deps.db, { kind: 'email', type, businessId: b.id, messageId, payload });
  return messageId;
}

const mailTo = (to: string) =>
  eventually(
    () => smtp.messages.find((message) => message.to.includes(to)),
    20_000,
    `mail to ${to}`,
  );

/** Every href in the HTML part, entity-decoded as a browser would. */
const hrefs = (mail: ReceivedMail) =>
  [...mail.html.matchAll(/href="([^"]*)"/g)].map((match) =>
    match[1]!
      .replace(/&amp;/g, '&')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>'),
  );

describe('emails over SMTP', () => {
  it('an invite outbox row becomes a real SMTP message with a working accept link', async () => {
    const b = await business();
    const to = `invitee-${newId()}@example.test`;
    const acceptUrl = `${jobs.config.publicUrl}/accept-invite?token=tok_${newId()}&utm=a+b`;
    const messageId = await queueEmail(b, 'invite', {
      to,
      businessName: b.name,
      inviterName: 'Owner <script>alert(1)</script>',
      role: 'cashier',
      acceptUrl,
      expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    });
    const mail = await mailTo(to);
    expect(mail.subject).toBe(`Owner <script>alert(1)</script> invited you to ${b.name}`);
    expect(mail.text).toContain(acceptUrl);
    expect(hrefs(mail)).toEqual([acceptUrl]);
    expect(acceptUrl.startsWith(jobs.config.publicUrl)).toBe(true);
    // Data is escaped in HTML: no markup from the payload survives.
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('Owner &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).toContain('Mama &lt;Mboga&gt; &amp; &quot;Sons&quot;');
    expect(mail.headers.get('x-message-id')).toBe(messageId);

    const [log] = await eventually(async () => {
      const rows = await jobs.deps.db
        .select()
        .from(emailLog)
        .where(eq(emailLog.messageId, messageId));
      return rows[0]?.status === 'sent' && rows;
    });
    expect(log).toMatchObject({ template: 'invite', to, status: 'sent', error: null });
    expect(mail.headers.get('message-id')).toBe(log!.providerMessageId);

    // At-least-once delivery: running the job again does not mail twice.
    const sent = smtp.messages.length;
    expect(await sendOutboxEmail(jobs.deps, messageId)).toEqual({ skipped: 'already sent' });
    expect(smtp.messages.length).toBe(sent);
  });

  it('a password-reset outbox row becomes a real SMTP message with a working reset link', async () => {
    const b = await business();
    const to = `user-${newId()}@example.test`;
    const resetUrl = `${jobs.config.publicUrl}/reset-password?token=${'a1'.repeat(32)}`;
    await queueEmail(b, 'password-reset', {
      to,
      name: 'Wanjiku',
      resetUrl,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const mail = await mailTo(to);
    expect(mail.subject).toBe('Reset your password');
    expect(mail.text).toContain(resetUrl);
    expect(hrefs(mail)).toEqual([resetUrl]);
    expect(mail.html).toContain('Hello Wanjiku');
  });

  it('retries a temporary SMTP refusal and gives up at once on a permanent one', async () => {
    const b = await business();
    const to = `retry-${newId()}@example.test`;
    smtp.rejectNext.push(451);
    const messageId = await queueEmail(b, 'password-reset', {
      to,
      name: 'Otieno',
      resetUrl: `${jobs.config.publicUrl}/reset-password?token=x`,
      expiresAt: new Date().toISOString(),
    });
    await mailTo(to);
    const [log] = await eventually(async () => {
      const rows = await jobs.deps.db
        .select()
        .from(emailLog)
        .where(eq(emailLog.messageId, messageId));
      return rows[0]?.status === 'sent' && rows;
    }, 30_000);
    expect(log!.attempts).toBe(2);

    const refused = `refused-${newId()}@example.test`;
    smtp.rejectNext.push(550);
    const refusedId = await queueEmail(b, 'password-reset', {
      to: refused,
      name: 'Otieno',
      resetUrl: `${jobs.config.publicUrl}/reset-password?token=y`,
      expiresAt: new Date().toISOString(),
    });
    const dead = await eventually(async () => {
      const [row] = await jobs.deps.db.select().from(deadJobs).where(eq(deadJobs.jobId, refusedId));
      return row;
    });
    expect(dead).toMatchObject({ queue: 'email', jobName: 'password-reset', attempts: 1 });
    const [failed] = await jobs.deps.db
      .select()
      .from(emailLog)
      .where(eq(emailLog.messageId, refusedId));
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed!.error).toContain('550');
  });

  it('a payload that breaks the template contract is logged failed and dead, never sent', async () => {
    const b = await business();
    const to = `bad-${newId()}@example.test`;
    const messageId = await queueEmail(b, 'password-reset', { to, name: 'No link' });
    const unknownId = await queueEmail(b, 'birthday-card', { to });
    const dead = await eventually(async () => {
      const rows = await jobs.deps.db
        .select()
        .from(deadJobs)
        .where(inArray(deadJobs.jobId, [messageId, unknownId]));
      return rows.length === 2 && rows;
    });
    expect(dead.map((row) => row.queue)).toEqual(['email', 'email']);
    const logs = await jobs.deps.db
      .select()
      .from(emailLog)
      .where(inArray(emailLog.messageId, [messageId, unknownId]));
    expect(logs.map((row) => row.status)).toEqual(['failed', 'failed']);
    expect(logs.find((row) => row.messageId === messageId)!.error).toContain('resetUrl');
    await sleep(200);
    expect(smtp.messages.some((message) => message.to.includes(to))).toBe(false);
  });

  it('the daily low-stock digest emails each owner the tracked, live products at or under threshold, once a day', async () => {
    const b = await business();
    const quiet = await createBusiness(jobs.deps);
    await jobs.deps.db
      .update(businesses)
      .set({ lowStockEmails: false })
      .where(eq(businesses.id, quiet.id));
    const product = (
      overrides: Partial<typeof products.$inferInsert> & { stockQuantity: number },
    ) => ({
      id: newId(),
      businessId: b.id,
      name: 'Item',
      price: 100,
      ...overrides,
    });
    const items = [
      product({ name: 'Sugar 1kg', sku: 'SUG-1', stockQuantity: 2, lowStockThreshold: 5 }),
      product({ name: 'Milk 500ml', sku: null, stockQuantity: 5, lowStockThreshold: 5 }),
      product({ name: 'Bread', stockQuantity: 6, lowStockThreshold: 5 }),
      product({ name: 'Old soap', stockQuantity: 0, lowStockThreshold: 5, archived: true }),
      product({ name: 'Service', stockQuantity: 0, lowStockThreshold: 5, trackStock: false }),
      product({ name: 'No threshold', stockQuantity: 0 }),
      {
        ...product({ name: 'Quiet shop item', stockQuantity: 0, lowStockThreshold: 5 }),
        businessId: quiet.id,
      },
    ];
    await jobs.deps.db.insert(products).values(items.map(({ stockQuantity: _, ...row }) => row));
    // The total lives in product_stock (its row made with the product).
    for (const item of items) {
      await jobs.deps.db
        .update(productStock)
        .set({ quantity: item.stockQuantity })
        .where(eq(productStock.productId, item.id));
    }
    const first = await queueLowStockDigests(jobs.deps);
    expect(first.emails).toBeGreaterThanOrEqual(1);
    const rows = await jobs.deps.db
      .select()
      .from(outbox)
      .where(
        and(eq(outbox.type, 'low-stock-digest'), inArray(outbox.businessId, [b.id, quiet.id])),
      );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.payload).toEqual({
      to: b.owner.email,
      businessName: b.name,
      products: [
        { name: 'Sugar 1kg', sku: 'SUG-1', stockQuantity: 2, lowStockThreshold: 5 },
        { name: 'Milk 500ml', sku: null, stockQuantity: 5, lowStockThreshold: 5 },
      ],
    });
    await queueLowStockDigests(jobs.deps); // same day: nothing new
    const again = await jobs.deps.db
      .select()
      .from(outbox)
      .where(and(eq(outbox.type, 'low-stock-digest'), eq(outbox.businessId, b.id)));
    expect(again).toHaveLength(1);

    const mail = await mailTo(b.owner.email);
    expect(mail.subject).toBe(`${b.name}: 2 products low on stock`);
    expect(mail.text).toContain('Sugar 1kg (SUG-1): 2 left (alert at 5)');
    expect(mail.html).toContain('Milk 500ml');
    expect(mail.html).not.toContain('Bread');
  });
});

describe('the development mail transport', () => {
  it('writes each message as an .eml file a developer can open', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mail-'));
    try {
      const config = loadConfig({
        ...testEnv(),
        NODE_ENV: 'development',
        MAIL_DIR: dir,
        SMTP_URL: '',
      });
      const mailer = createMailer(config, createLogger(config));
      const messageId = newId();
      const result = await mailer.send({
        to: 'dev@example.test',
        subject: 'Hello dev',
        text: 'Plain',
        html: '<p>Rich</p>',
        messageId,
      });
      expect(result.providerMessageId).toMatch(/^<.+>$/);
      expect(await readdir(dir)).toEqual([`${messageId}.eml`]);
      const raw = await readFile(path.join(dir, `${messageId}.eml`), 'utf8');
      expect(raw).toContain('Subject: Hello dev');
      expect(raw).toContain('To: dev@example.test');
      mailer.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
