import http from 'node:http';
import { eq } from 'drizzle-orm';
import { afterAll, expect } from 'vitest';
import type { AppDeps } from '../../src/deps.js';
import { businessMpesaSettings, mpesaCallbackInbox, payments } from '../../src/db/schema/index.js';
import type { Clock } from '../../src/lib/clock.js';
import {
  startDarajaSimulator,
  type DarajaSimulator,
  type SimulatorOptions,
} from '../../src/mpesa/simulator/simulator.js';
import { allRoutes } from '../../src/routes.js';
import type { Response, Test } from 'supertest';
import { createTestApp, type TestContext } from './app.js';
import type { TestBusiness } from './factories.js';
import { freePort } from './process.js';
import { testRoutes } from './test-routes.js';

export interface PaymentsHarness extends TestContext {
  simulator: DarajaSimulator;
  apiUrl: string;
  /** The owner's `POST /bv-payments/subscription-stk-push` (monthly plan); the raw answer. */
  pushSubscription: (business: TestBusiness, phoneNumber: string, key?: string) => Test;
  /**
   * A cashier's `POST /bv-payments/sale-stk-push`; the raw answer. A business without till
   * settings first gets the simulator's default app (configureTill).
   */
  pushSale: (
    business: TestBusiness,
    body: Record<string, unknown>,
    key?: string,
  ) => Promise<Response>;
  /** The owner's `PUT /business/mpesa` with these credentials (default: the simulator's app). */
  configureTill: (business: TestBusiness, till?: Partial<TillCredentials>) => Promise<Response>;
}

/** A business's own Daraja app and shortcode, as `PUT /business/mpesa` takes them. */
export interface TillCredentials {
  environment: 'sandbox' | 'production';
  type: 'paybill' | 'till';
  shortcode: string;
  tillNumber?: string;
  consumerKey: string;
  consumerSecret: string;
  passkey: string;
}

let apps = 0;
/**
 * A new Daraja app known to the simulator, with its own shortcode: a business's own
 * credentials, different from the platform's.
 */
export function newTillApp(simulator: DarajaSimulator, type: 'paybill' | 'till' = 'paybill') {
  apps += 1;
  const serial = `${process.pid % 1000}${apps}`.padStart(5, '0').slice(-5);
  const credentials: TillCredentials = {
    environment: 'sandbox',
    type,
    shortcode: `6${serial}`,
    consumerKey: `shop-key-${process.pid}-${apps}`,
    consumerSecret: `shop-secret-${process.pid}-${apps}-${Math.random().toString(36).slice(2)}`,
    passkey: `shop-passkey-${apps}-${Math.random().toString(36).slice(2)}`,
  };
  simulator.addApp(credentials);
  return credentials;
}

/**
 * The API listening on a real port (Daraja's callbacks must reach it over HTTP) and a
 * Daraja simulator on another, wired through MPESA_BASE_URL and PUBLIC_URL. Call at the top
 * level of a test file; both close after the file.
 */
export async function startPaymentsHarness(
  options: {
    clock?: Clock;
    simulator?: Partial<SimulatorOptions>;
    env?: Record<string, string>;
  } = {},
): Promise<PaymentsHarness> {
  const simulator = await startDarajaSimulator({ callbackDelayMs: 30, ...options.simulator });
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const context = createTestApp({
    env: {
      PUBLIC_URL: apiUrl,
      MPESA_ENV: 'simulator',
      MPESA_BASE_URL: simulator.url,
      ...options.env,
    },
    routes: [...allRoutes, ...testRoutes],
    clock: options.clock,
  });
  const server = http.createServer((req, res) => void context.app.callback()(req, res));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  afterAll(async () => {
    await simulator.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const pushSubscription = (business: TestBusiness, phoneNumber: string, key = idempotencyKey()) =>
    context.http
      .post('/bv-payments/subscription-stk-push')
      .set('Authorization', business.owner.auth)
      .set('Idempotency-Key', key)
      .send({ plan: 'monthly', phoneNumber });
  const simulatorApp: TillCredentials = {
    environment: 'sandbox',
    type: 'paybill',
    shortcode: simulator.options.shortcode,
    consumerKey: simulator.options.consumerKey,
    consumerSecret: simulator.options.consumerSecret,
    passkey: simulator.options.passkey,
  };
  const configured = new Set<string>();
  const configureTill = async (business: TestBusiness, till: Partial<TillCredentials> = {}) => {
    const response = await context.http
      .put('/business/mpesa')
      .set('Authorization', business.owner.auth)
      .send({ ...simulatorApp, ...till });
    if (response.status === 200) configured.add(business.id);
    return response;
  };
  const pushSale = async (
    business: TestBusiness,
    body: Record<string, unknown>,
    key = idempotencyKey(),
  ) => {
    if (!configured.has(business.id)) {
      const [row] = await context.deps.db
        .select({ id: businessMpesaSettings.businessId })
        .from(businessMpesaSettings)
        .where(eq(businessMpesaSettings.businessId, business.id));
      if (!row) expect((await configureTill(business)).status).toBe(200);
      configured.add(business.id);
    }
    return context.http
      .post('/bv-payments/sale-stk-push')
      .set('Authorization', business.cashier.auth)
      .set('Idempotency-Key', key)
      .send(body);
  };
  return { ...context, simulator, apiUrl, pushSubscription, pushSale, configureTill };
}

/** Polls until `check` returns a value (not undefined/false) or the deadline passes. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function paymentRow(deps: AppDeps, id: string) {
  const [row] = await deps.db.select().from(payments).where(eq(payments.id, id));
  return row!;
}

export async function inboxRows(deps: AppDeps, paymentId: string) {
  return deps.db
    .select()
    .from(mpesaCallbackInbox)
    .where(eq(mpesaCallbackInbox.paymentId, paymentId))
    .orderBy(mpesaCallbackInbox.receivedAt);
}

/** Waits for `count` callbacks stored for the payment and returns their inbox ids. */
export async function waitForCallbacks(deps: AppDeps, paymentId: string, count = 1) {
  const rows = await waitFor(async () => {
    const found = await inboxRows(deps, paymentId);
    return found.length >= count ? found : undefined;
  }, `${count} callback(s) for payment ${paymentId}`);
  return rows.map((row) => row.id);
}

let keys = 0;
export const idempotencyKey = () => `test-key-${Date.now()}-${++keys}`;
