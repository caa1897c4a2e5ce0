import type { AppDeps } from '../../deps.js';
import type { DbOrTx } from '../../db/client.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { outboxMessage } from '../../jobs/types.js';
import { AppError, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { recordAudit, type RequestMeta } from '../audit/audit.service.js';
import type { Caller } from '../auth/caller.js';
import { mayActAt, outsideAssignment } from '../locations/location-access.js';
import { encryptSecret } from '../webhooks/webhook-secret.js';
import { etimsBlockOfSale } from './etims-block.js';
import { etimsClient } from './etims-transmit.js';
import { transmitJob } from './etims.job.js';
import * as repo from './etims.repo.js';
import type {
  EtimsBlock,
  EtimsInitializeResult,
  EtimsSettings,
  EtimsSettingsBody,
} from './etims.schemas.js';

export { etimsBlockOfSale };

/** The last 3 characters, to recognise a PIN without showing it. */
const pinHint = (pin: string) => `…${pin.slice(-3)}`;

async function presentSettings(
  db: DbOrTx,
  businessId: string,
  settings: repo.EtimsSettingsRow | undefined,
): Promise<EtimsSettings> {
  const [locations, devices] = await Promise.all([
    repo.listLocations(db, businessId),
    repo.listDevices(db, businessId),
  ]);
  return {
    configured: settings !== undefined,
    kraPinHint: settings ? pinHint(settings.kraPin) : null,
    environment: settings?.environment ?? null,
    enabled: settings?.enabled ?? false,
    enabledAt: settings?.enabledAt?.toISOString() ?? null,
    devices: locations
      .filter((location) => !location.archived)
      .map((location) => {
        const device = devices.find(
          (row) =>
            row.locationId === location.id &&
            row.kraPin === settings?.kraPin &&
            row.branchId === location.etimsBranchId &&
            row.environment === settings.environment,
        );
        return {
          locationId: location.id,
          etimsBranchId: location.etimsBranchId,
          initialized: device !== undefined,
          sdcId: device?.sdcId ?? null,
          mrcNo: device?.mrcNo ?? null,
          initializedAt: device?.initializedAt.toISOString() ?? null,
        };
      }),
  };
}

export async function getEtimsSettings(deps: AppDeps, caller: Caller): Promise<EtimsSettings> {
  const settings = await repo.findSettings(deps.db, caller.businessId);
  return presentSettings(deps.db, caller.businessId, settings);
}

/**
 * PUT /business/etims. Switching on stamps `enabledAt`: sales that occurred before it are
 * never transmitted (eTIMS starts with the switch; the shop's earlier invoices are not ours
 * to declare late). The PIN is audited only as its hint.
 */
export async function putEtimsSettings(
  deps: AppDeps,
  caller: Caller,
  meta: RequestMeta,
  body: EtimsSettingsBody,
): Promise<EtimsSettings> {
  const now = deps.clock();
  return deps.db.transaction(async (tx) => {
    const before = await repo.findSettings(tx, caller.businessId);
    const row = await repo.saveSettings(tx, caller.businessId, body, now);
    await recordAudit(
      tx,
      caller,
      {
        actorUserId: caller.userId,
        action: 'business.etims_updated',
        targetType: 'business',
        targetId: caller.businessId,
        details: {
          kraPin: { from: before ? pinHint(before.kraPin) : null, to: pinHint(row.kraPin) },
          environment: { from: before?.environment ?? null, to: row.environment },
          enabled: { from: before?.enabled ?? false, to: row.enabled },
        },
        meta,
      },
      now,
    );
    return presentSettings(tx, caller.businessId, row);
  });
}

/**
 * POST /business/etims/initialize: selectInitOsdcInfo for each open location (its
 * `etimsBranchId`), keeping KRA's answer and the communication key (encrypted). A location
 * already initialised for this PIN, branch and environment is left alone; KRA's 902 ("this
 * device is installed") for a device we have no key of is reported as failed.
 */
export async function initializeEtims(
  deps: AppDeps,
  caller: Caller,
): Promise<EtimsInitializeResult> {
  const settings = await repo.findSettings(deps.db, caller.businessId);
  if (!settings) {
    throw new AppError('CONFLICT', 'Set the KRA PIN first (PUT /business/etims)');
  }
  const [locations, devices] = await Promise.all([
    repo.listLocations(deps.db, caller.businessId),
    repo.listDevices(deps.db, caller.businessId),
  ]);
  const client = etimsClient(deps, settings.environment);
  const results: EtimsInitializeResult['devices'] = [];
  for (const location of locations.filter((row) => !row.archived)) {
    const existing = devices.find(
      (row) =>
        row.locationId === location.id &&
        row.kraPin === settings.kraPin &&
        row.branchId === location.etimsBranchId &&
        row.environment === settings.environment,
    );
    const base = { locationId: location.id, etimsBranchId: location.etimsBranchId };
    if (existing) {
      results.push({
        ...base,
        initialized: true,
        sdcId: existing.sdcId,
        mrcNo: existing.mrcNo,
        initializedAt: existing.initializedAt.toISOString(),
        result: 'already-initialized',
        error: null,
      });
      continue;
    }
    const outcome = await client.initializeDevice({
      tin: settings.kraPin,
      bhfId: location.etimsBranchId,
      dvcSrlNo: `${deps.config.etims.deviceSerialPrefix}-${location.id}`.slice(0, 100),
    });
    if (outcome.kind !== 'success') {
      const error =
        outcome.kind === 'retryable'
          ? { code: outcome.resultCd ?? outcome.reason, message: outcome.message }
          : { code: outcome.resultCd, message: outcome.resultMsg };
      results.push({
        ...base,
        initialized: false,
        sdcId: null,
        mrcNo: null,
        initializedAt: null,
        result: 'failed',
        error: { code: error.code.slice(0, 20), message: error.message.slice(0, 500) },
      });
      continue;
    }
    const { cmcKey, ...info } = outcome.data;
    const now = deps.clock();
    await repo.saveDevice(deps.db, {
      businessId: caller.businessId,
      locationId: location.id,
      branchId: location.etimsBranchId,
      kraPin: settings.kraPin,
      environment: settings.environment,
      sdcId: info.sdcId ?? null,
      mrcNo: info.mrcNo ?? null,
      dvcId: info.dvcId ?? null,
      info: info,
      cmcKeyCiphertext: encryptSecret(cmcKey, deps.config.webhooks.secretKey),
      initializedAt: now,
    });
    results.push({
      ...base,
      initialized: true,
      sdcId: info.sdcId ?? null,
      mrcNo: info.mrcNo ?? null,
      initializedAt: now.toISOString(),
      result: 'initialized',
      error: null,
    });
  }
  return { devices: results };
}

/**
 * POST /sales/:id/etims/retry: the sale's failed documents (its invoice, its void's and its
 * returns' credit notes) go back to pending and are queued again, with the same invoice numbers. A sale with
 * nothing failed answers its block unchanged.
 */
export async function retrySaleEtims(
  deps: AppDeps,
  caller: Caller,
  saleId: string,
): Promise<EtimsBlock> {
  const sale = await repo.saleExists(deps.db, caller.businessId, saleId);
  if (!sale) throw notFound('Sale');
  if (sale.locationId && !mayActAt(caller, sale.locationId)) throw outsideAssignment();
  await deps.db.transaction(async (tx) => {
    // The sale's invoice, its void's credit note and its returns' credit notes.
    const documents = [
      ...(await repo.documentsOfSales(tx, caller.businessId, [saleId])),
      ...(await repo.returnDocumentsOfSale(tx, caller.businessId, saleId)),
    ];
    for (const document of documents) {
      const locked = await repo.lockDocument(tx, document.id, true);
      if (locked?.status !== 'failed') continue;
      await repo.updateDocument(
        tx,
        document.id,
        { status: 'pending', errorCode: null, errorMessage: null },
        deps.clock(),
      );
      await writeOutbox(
        tx,
        outboxMessage(transmitJob, caller.businessId, { documentId: document.id }),
      );
    }
  });
  const block = await etimsBlockOfSale(deps.db, caller.businessId, saleId);
  if (!block) throw notFound('eTIMS invoice of this sale');
  return block;
}

/**
 * In a void's transaction: a sale that has an eTIMS invoice gets a credit note for the whole
 * sale (eTIMS has no cancel), sent once the invoice is signed.
 */
export async function queueCreditNoteForVoid(
  tx: DbOrTx,
  businessId: string,
  saleId: string,
): Promise<void> {
  const documents = await repo.documentsOfSales(tx, businessId, [saleId]);
  if (!documents.some((row) => row.kind === 'sale')) return;
  const id = newId();
  const inserted = await repo.insertDocument(tx, { id, businessId, saleId, kind: 'credit_note' });
  if (inserted) await writeOutbox(tx, outboxMessage(transmitJob, businessId, { documentId: id }));
}

/**
 * In a return's transaction: a return of a sale that has an eTIMS invoice gets a credit note
 * (R) of the returned lines, referencing the sale's invoice; like a void's, it takes its
 * number from the same counter when first sent, and waits until the invoice is signed.
 * One per return (unique index on return_id). Returns whether one was queued.
 */
export async function queueCreditNoteForReturn(
  tx: DbOrTx,
  businessId: string,
  saleId: string,
  returnId: string,
): Promise<boolean> {
  const documents = await repo.documentsOfSales(tx, businessId, [saleId]);
  if (!documents.some((row) => row.kind === 'sale')) return false;
  const id = newId();
  const inserted = await repo.insertDocument(tx, {
    id,
    businessId,
    saleId,
    returnId,
    kind: 'credit_note',
  });
  if (inserted) await writeOutbox(tx, outboxMessage(transmitJob, businessId, { documentId: id }));
  return inserted;
}
