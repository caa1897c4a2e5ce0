import type { Job } from 'bullmq';
import type { AppDeps } from '../../deps.js';
import { defineJob, defineQueue } from '../../jobs/types.js';
import { z } from '../../lib/zod.js';
import {
  credentialsOf,
  etimsClient,
  EtimsRetryable,
  failDocument,
  registerItem,
  transmitDocument,
  type TransmitResult,
} from './etims-transmit.js';
import * as repo from './etims.repo.js';

/** Attempts before a document KRA never answered becomes `failed` (code UNREACHABLE). */
export const TRANSMIT_ATTEMPTS = 12;

/**
 * One attempt at a document (etims-transmit.ts). A retryable outcome throws, so BullMQ
 * tries again with backoff; the last attempt marks it failed and tells managers.
 */
export async function processTransmit(
  deps: AppDeps,
  documentId: string,
  job?: Pick<Job, 'attemptsMade' | 'opts'>,
): Promise<TransmitResult> {
  try {
    return await transmitDocument(deps, documentId);
  } catch (error) {
    const last = job !== undefined && job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (error instanceof EtimsRetryable && last) {
      const document = await repo.findDocument(deps.db, documentId);
      if (document) await failDocument(deps, document, 'UNREACHABLE', error.message);
      return 'failed';
    }
    throw error;
  }
}

export const transmitJob = defineJob({
  queue: 'etims',
  name: 'transmit',
  payload: z.object({ documentId: z.uuid() }),
  handle: (payload, deps, job) => processTransmit(deps, payload.documentId, job),
});

/**
 * saveItem of one product at every initialised branch of the business (after a product
 * is created or changed). A refusal is logged: the sale that names the item registers it
 * again and reports a refusal on the sale, where a person sees it.
 */
export async function processRegisterItem(
  deps: AppDeps,
  businessId: string,
  productId: string,
): Promise<number> {
  const settings = await repo.findSettings(deps.db, businessId);
  if (!settings?.enabled) return 0;
  const [product] = await repo.findProductsForItems(deps.db, businessId, [productId]);
  if (!product) return 0;
  const devices = (await repo.listDevices(deps.db, businessId)).filter(
    (device) => device.kraPin === settings.kraPin,
  );
  const client = etimsClient(deps, settings.environment);
  let registered = 0;
  for (const device of devices) {
    const current =
      (await repo.findProductsForItems(deps.db, businessId, [productId]))[0] ?? product;
    const outcome = await registerItem(
      deps,
      client,
      credentialsOf(deps, device),
      businessId,
      current,
    );
    if (outcome.kind === 'retryable')
      throw new EtimsRetryable(`eTIMS saveItem: ${outcome.message}`);
    if (outcome.kind === 'refused') {
      deps.logger.warn({ productId, resultCd: outcome.resultCd }, 'eTIMS saveItem refused');
    } else registered += 1;
  }
  return registered;
}

export const registerItemJob = defineJob({
  queue: 'etims',
  name: 'register-item',
  payload: z.object({ businessId: z.uuid(), productId: z.uuid() }),
  handle: (payload, deps) => processRegisterItem(deps, payload.businessId, payload.productId),
});

export const etimsQueue = defineQueue(
  {
    queue: 'etims',
    concurrency: 4,
    // 5 s doubling: the last of 12 attempts comes ~3 h after the first.
    defaultJobOptions: {
      attempts: TRANSMIT_ATTEMPTS,
      backoff: { type: 'exponential', delay: 5_000, jitter: 0.3 },
    },
  },
  [transmitJob, registerItemJob],
);
