import { randomInt } from 'node:crypto';
import { Writable } from 'node:stream';
import { and, eq } from 'drizzle-orm';
import { afterAll, expect } from 'vitest';
import type { AppDeps } from '../../src/deps.js';
import {
  etimsDocuments,
  etimsSettings,
  outbox,
  type EtimsDocumentRow,
} from '../../src/db/schema/index.js';
import { newId } from '../../src/lib/ids.js';
import {
  startOscuSimulator,
  type OscuMode,
  type OscuSimulator,
} from '../../src/etims/simulator/simulator.js';
import { createLogger } from '../../src/lib/logger.js';
import { processTransmit } from '../../src/modules/etims/etims.job.js';
import { EtimsRetryable } from '../../src/modules/etims/etims-transmit.js';
import { createTestApp, type TestContext } from './app.js';
import type { TestBusiness } from './factories.js';

export interface EtimsHarness extends TestContext {
  simulator: OscuSimulator;
  /** Every log line the app (and the jobs run through its deps) wrote. */
  logs: string[];
}

/**
 * The app with a KRA OSCU simulator in this process (ETIMS_BASE_URL points at it) and a
 * short OSCU timeout, so "KRA answered too late" takes a second, not fifteen.
 */
export async function startEtimsHarness(
  options: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<EtimsHarness> {
  const simulator = await startOscuSimulator();
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const env = {
    ETIMS_BASE_URL: simulator.baseUrl,
    ETIMS_HTTP_TIMEOUT_MS: String(options.timeoutMs ?? 1_000),
    LOG_LEVEL: 'debug',
    ...options.env,
  };
  const context = createTestApp({
    env,
    logger: createLogger({ logLevel: 'debug', env: 'test' } as never, {}, stream),
  });
  afterAll(async () => {
    await simulator.close();
  });
  return { ...context, simulator, logs };
}

/** A PIN of the simulator's normal mode, unique per business (its devices are per PIN). */
export const newKraPin = () => `P${String(randomInt(100_000_000, 999_999_999))}Z`;

/** PUT /business/etims (enabled) and POST /business/etims/initialize; returns the PIN. */
export async function enableEtims(
  harness: EtimsHarness,
  business: TestBusiness,
  options: { pin?: string; mode?: OscuMode } = {},
): Promise<string> {
  const pin = options.pin ?? newKraPin();
  if (options.mode) harness.simulator.options.modeByPin[pin] = options.mode;
  const put = await harness.http
    .put('/business/etims')
    .set('Authorization', business.owner.auth)
    .send({ kraPin: pin, environment: 'sandbox', enabled: true });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  const init = await harness.http
    .post('/business/etims/initialize')
    .set('Authorization', business.owner.auth)
    .send();
  expect(init.status, JSON.stringify(init.body)).toBe(200);
  return pin;
}

export function setPinMode(harness: EtimsHarness, pin: string, mode: OscuMode) {
  harness.simulator.options.modeByPin[pin] = mode;
}

export async function documentsOfSale(deps: AppDeps, saleId: string): Promise<EtimsDocumentRow[]> {
  return deps.db
    .select()
    .from(etimsDocuments)
    .where(eq(etimsDocuments.saleId, saleId))
    .orderBy(etimsDocuments.createdAt);
}

/** The documentIds of the transmit jobs the business's outbox holds (what the relay would enqueue). */
export async function queuedTransmits(deps: AppDeps, businessId: string): Promise<string[]> {
  const rows = await deps.db
    .select({ payload: outbox.payload })
    .from(outbox)
    .where(and(eq(outbox.businessId, businessId), eq(outbox.type, 'etims:transmit')));
  return rows.map((row) => (row.payload as { documentId: string }).documentId);
}

/** One worker attempt at a document, as the job runs it; a retryable outcome comes back as 'retry'. */
export async function attempt(deps: AppDeps, documentId: string) {
  try {
    return await processTransmit(deps, documentId);
  } catch (error) {
    if (error instanceof EtimsRetryable) return 'retry' as const;
    throw error;
  }
}

/** The invoices KRA (the simulator) holds for one of our sale numbers (trdInvcNo). */
export function invoicesAtKra(simulator: OscuSimulator, pin: string, trdInvcNo: string) {
  return [...simulator.state.invoices.values()].filter(
    (invoice) => invoice.request.tin === pin && String(invoice.request.trdInvcNo) === trdInvcNo,
  );
}

/** A sale's eTIMS invoice as a KRA refusal leaves it (for fixtures that need one to retry). */
export async function giveFailedEtimsInvoice(deps: AppDeps, businessId: string, saleId: string) {
  await deps.db
    .insert(etimsSettings)
    .values({ businessId, kraPin: 'P051234567X', environment: 'sandbox', enabled: false })
    .onConflictDoNothing();
  await deps.db.insert(etimsDocuments).values({
    id: newId(),
    businessId,
    saleId,
    kind: 'sale',
    status: 'failed',
    errorCode: '910',
    errorMessage: 'Request parameter error',
  });
}
