import type { AppDeps } from '../../deps.js';
import { EtimsClient, type OscuCredentials } from '../../etims/etims-client.js';
import type { EtimsOutcome } from '../../etims/etims-errors.js';
import type { TrnsSalesSaveWrReq } from '../../etims/wire.js';
import { writeOutbox } from '../../jobs/outbox.js';
import { decryptSecret } from '../webhooks/webhook-secret.js';
import { effectiveTaxType } from '../catalog/tax-type.rules.js';
import {
  buildItemRequest,
  buildSaleRequest,
  buildStockIoRequest,
  DEFAULT_ITEM_CLASS_CODE,
  itemCodeOf,
  paymentTypeOf,
  REGISTRAR_ID,
} from './etims-invoice.js';
import * as repo from './etims.repo.js';
import { presentBlock } from './etims-block.js';

/**
 * How one document reaches KRA exactly once (docs/api.md "KRA eTIMS"):
 *
 * 1. Its invoice number is taken from the branch's gap-free counter and stored on the
 *    document in a transaction of its own, committed before anything is sent. From then on
 *    every send of this document carries that number, and no other document can get it.
 * 2. The send happens while this worker holds the document's row lock (`FOR UPDATE SKIP
 *    LOCKED`): a second worker on the same document finds it locked and leaves it alone.
 * 3. KRA keeps one invoice per (PIN, branch, invoice number): a resend after a lost answer
 *    (timeout, crash after sending) is answered 994 "overlapped data", which we record as
 *    signed (without the signature fields KRA does not repeat). Retryable answers (5xx,
 *    timeouts, KRA's server codes) leave the document pending and the job retries with
 *    backoff; a refusal makes it `failed` with KRA's code, managers are told, and
 *    POST /sales/:id/etims/retry queues it again after a fix.
 */

export class EtimsRetryable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EtimsRetryable';
  }
}

export type TransmitResult =
  'signed' | 'duplicate' | 'already-signed' | 'failed' | 'busy' | 'not-pending';

export function etimsClient(deps: AppDeps, environment: 'sandbox' | 'production') {
  return new EtimsClient({
    baseUrl: deps.config.etims.baseUrls[environment],
    timeoutMs: deps.config.etims.timeoutMs,
    logger: deps.logger,
  });
}

export const credentialsOf = (deps: AppDeps, device: repo.EtimsDeviceRow): OscuCredentials => ({
  tin: device.kraPin,
  bhfId: device.branchId,
  cmcKey: decryptSecret(device.cmcKeyCiphertext, deps.config.webhooks.secretKey),
});

type LoadedSale = NonNullable<Awaited<ReturnType<typeof repo.loadSaleForInvoice>>>;

/**
 * What a document lists: a sale's invoice and a void's credit note the whole sale; a
 * return's credit note (return_id set) only the returned lines, as refunded, under the
 * trade number `<sale number>-R<return number>`.
 */
async function documentContent(deps: AppDeps, document: repo.EtimsDocumentRow, loaded: LoadedSale) {
  if (document.returnId === null) {
    return {
      lines: loaded.lines,
      stockLines: loaded.lines,
      payments: loaded.payments,
      occurredAt: loaded.sale.occurredAt,
      tradeInvoiceNumber: `${loaded.sale.number}${document.kind === 'credit_note' ? '-CN' : ''}`,
      cashierId: loaded.sale.cashierId,
    };
  }
  const returned = await repo.loadReturnForCreditNote(
    deps.db,
    document.businessId,
    document.returnId,
  );
  if (!returned) return undefined;
  return {
    lines: returned.lines,
    // Only what went back on the shelf comes back into stock.
    stockLines: returned.lines.filter((line) => line.restocked),
    payments: returned.refunds.length > 0 ? returned.refunds : loaded.payments,
    occurredAt: returned.ret.occurredAt,
    tradeInvoiceNumber: `${loaded.sale.number}-R${returned.ret.number}`,
    // Who recorded the return: the realtime stream delivers the event to them (own).
    cashierId: returned.ret.cashierId,
  };
}

/** Marks a document failed with KRA's (or our) reason; tells managers, once per failure. */
export async function failDocument(
  deps: AppDeps,
  document: repo.EtimsDocumentRow,
  code: string,
  message: string,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const locked = await repo.lockDocument(tx, document.id, true);
    if (!locked || locked.status !== 'pending') return;
    const failed = await repo.updateDocument(
      tx,
      document.id,
      { status: 'failed', errorCode: code.slice(0, 20), errorMessage: message.slice(0, 500) },
      deps.clock(),
    );
    const managers = await repo.findManagers(tx, document.businessId);
    await writeOutbox(tx, [
      {
        kind: 'event',
        type: 'sale.etims_failed',
        businessId: document.businessId,
        payload: {
          saleId: document.saleId,
          ...(document.returnId === null ? {} : { returnId: document.returnId }),
          document: failed.kind,
          error: { code, message },
        },
      },
      ...managers.map((manager) => ({
        kind: 'email' as const,
        type: 'etims-failed',
        businessId: document.businessId,
        payload: {
          to: manager.email,
          businessName: manager.businessName,
          saleId: document.saleId,
          document: failed.kind,
          code: code.slice(0, 20),
          message: message.slice(0, 500),
        },
      })),
    ]);
  });
}

/** One attempt at a document. Throws EtimsRetryable when it should be tried again later. */
export async function transmitDocument(deps: AppDeps, documentId: string): Promise<TransmitResult> {
  let document = await repo.findDocument(deps.db, documentId);
  if (!document) return 'not-pending';
  if (document.status === 'failed') return 'not-pending';
  if (document.status === 'signed') {
    if (!document.stockReportedAt) await reportStock(deps, document);
    return 'already-signed';
  }
  const settings = await repo.findSettings(deps.db, document.businessId);
  if (!settings) return 'not-pending';
  const loaded = await repo.loadSaleForInvoice(deps.db, document.businessId, document.saleId);
  if (!loaded) return 'not-pending';
  const content = await documentContent(deps, document, loaded);
  if (!content) return 'not-pending';
  const locationId =
    loaded.sale.locationId ?? (await repo.findDefaultLocationId(deps.db, document.businessId));
  const device = await repo.findDevice(deps.db, document.businessId, locationId);
  if (!device || device.kraPin !== settings.kraPin) {
    await failDocument(
      deps,
      document,
      'NOT_INITIALIZED',
      'This location has no eTIMS device for the current KRA PIN: run POST /business/etims/initialize, then retry',
    );
    return 'failed';
  }

  // A credit note follows the invoice it credits.
  let originalInvoiceNumber = 0;
  if (document.kind === 'credit_note') {
    const [original] = (
      await repo.documentsOfSales(deps.db, document.businessId, [document.saleId])
    ).filter((row) => row.kind === 'sale');
    if (original?.status !== 'signed' || original.invoiceNumber === null) {
      throw new EtimsRetryable('the credited sale is not signed yet');
    }
    originalInvoiceNumber = original.invoiceNumber;
  }

  // 1. The invoice number, once, committed before the first send.
  if (document.invoiceNumber === null) {
    const numbered = await deps.db.transaction(async (tx) => {
      // Locked: another worker is on it (numbering or sending); it will finish the job.
      const locked = await repo.lockDocument(tx, documentId, false);
      if (!locked) return undefined;
      if (locked.invoiceNumber !== null) return locked;
      const invoiceNumber = await repo.takeInvoiceNumber(tx, locked.businessId, device.branchId);
      return repo.updateDocument(
        tx,
        documentId,
        {
          invoiceNumber,
          branchId: device.branchId,
          originalInvoiceNumber: originalInvoiceNumber || null,
        },
        deps.clock(),
      );
    });
    if (!numbered) return 'busy';
    document = numbered;
  }
  const invoiceNumber = document.invoiceNumber;
  if (invoiceNumber === null) throw new Error(`etims document ${documentId} has no number`);
  const branchId = document.branchId ?? device.branchId;
  const credentials = credentialsOf(deps, device);
  const client = etimsClient(deps, settings.environment);

  // The items, registered at this branch before the first invoice that names them.
  const productIds = [...new Set(content.lines.map((line) => line.productId))];
  const itemCodes = await ensureItemsRegistered(deps, document, credentials, client, productIds);
  if (itemCodes === 'failed') return 'failed';

  const request: TrnsSalesSaveWrReq = buildSaleRequest({
    tin: device.kraPin,
    bhfId: branchId,
    invoiceNumber,
    originalInvoiceNumber: document.originalInvoiceNumber ?? originalInvoiceNumber,
    kind: document.kind,
    tradeInvoiceNumber: content.tradeInvoiceNumber,
    occurredAt: content.occurredAt,
    confirmedAt: document.createdAt,
    paymentMethod: paymentTypeOf(content.payments),
    customerPhone: loaded.sale.customerPhone,
    registrarName: loaded.cashierName || REGISTRAR_ID,
    lines: content.lines.map((line) => ({
      itemCode: itemCodes.get(line.productId) ?? '',
      itemClassCode: line.itemClassCode ?? DEFAULT_ITEM_CLASS_CODE,
      name: line.name,
      unit: line.unit,
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      discount: line.discount + line.saleDiscountShare,
      // The line's own rate decides its band; the product's type names which 0 % band.
      taxType:
        line.productTaxRate === line.taxRate
          ? (effectiveTaxType({ taxType: line.productTaxType, taxRate: line.taxRate }) ?? 'B')
          : (effectiveTaxType({ taxType: null, taxRate: line.taxRate }) ?? 'B'),
    })),
  });

  // 2. The send, under the document's row lock.
  const sent = await deps.db.transaction(async (tx) => {
    const locked = await repo.lockDocument(tx, documentId, false);
    if (!locked) return 'busy' as const;
    if (locked.status !== 'pending') return 'not-pending' as const;
    const outcome = await client.saveSale(credentials, request);
    const now = deps.clock();
    if (outcome.kind === 'success' || outcome.kind === 'duplicate') {
      const signature = outcome.kind === 'success' ? outcome.data : null;
      const signed = await repo.updateDocument(
        tx,
        documentId,
        {
          status: 'signed',
          attempts: locked.attempts + 1,
          duplicate: outcome.kind === 'duplicate',
          receiptNumber: signature?.curRcptNo ?? null,
          totalReceiptNumber: signature?.totRcptNo ?? null,
          internalData: signature?.intrlData ?? null,
          signature: signature?.rcptSign ?? null,
          sdcDateTime: signature?.sdcDateTime ?? null,
          sdcId: device.sdcId,
          errorCode: null,
          errorMessage: null,
          signedAt: now,
        },
        now,
      );
      const etims = presentBlock(signed, {
        environment: settings.environment,
        kraPin: settings.kraPin,
      });
      await writeOutbox(
        tx,
        signed.returnId === null
          ? {
              kind: 'event',
              type: 'sale.etims_signed',
              businessId: signed.businessId,
              // cashierId: the live stream hands the reprint to the till that sold it (own).
              payload: {
                saleId: signed.saleId,
                cashierId: content.cashierId,
                document: signed.kind,
                etims,
              },
            }
          : {
              kind: 'event',
              type: 'return.etims_signed',
              businessId: signed.businessId,
              payload: {
                returnId: signed.returnId,
                saleId: signed.saleId,
                cashierId: content.cashierId,
                etims,
              },
            },
      );
      return outcome.kind === 'success' ? ('signed' as const) : ('duplicate' as const);
    }
    await repo.updateDocument(
      tx,
      documentId,
      {
        attempts: locked.attempts + 1,
        errorCode:
          outcome.kind === 'refused' ? outcome.resultCd : (outcome.resultCd ?? outcome.reason),
        errorMessage: (outcome.kind === 'refused' ? outcome.resultMsg : outcome.message).slice(
          0,
          500,
        ),
      },
      now,
    );
    return outcome;
  });
  if (typeof sent === 'string') {
    if (sent === 'signed' || sent === 'duplicate') {
      const signed = await repo.findDocument(deps.db, documentId);
      if (signed) await reportStock(deps, signed);
    }
    return sent;
  }
  return settle(deps, document, sent);
}

async function settle(
  deps: AppDeps,
  document: repo.EtimsDocumentRow,
  outcome: Exclude<EtimsOutcome<unknown>, { kind: 'success' | 'duplicate' }>,
): Promise<TransmitResult> {
  if (outcome.kind === 'retryable') throw new EtimsRetryable(`eTIMS: ${outcome.message}`);
  await failDocument(deps, document, outcome.resultCd, outcome.resultMsg);
  return 'failed';
}

/** Item codes of the products; each registered (saveItem) at this branch at its current version. */
async function ensureItemsRegistered(
  deps: AppDeps,
  document: repo.EtimsDocumentRow,
  credentials: OscuCredentials,
  client: EtimsClient,
  productIds: string[],
): Promise<Map<string, string> | 'failed'> {
  const codes = new Map<string, string>();
  const rows = await repo.findProductsForItems(deps.db, document.businessId, productIds);
  for (const product of rows) {
    const registered =
      product.registeredVersion === product.version &&
      (product.registeredBranches ?? []).includes(credentials.bhfId);
    if (product.itemCode !== null && registered) {
      codes.set(product.id, product.itemCode);
      continue;
    }
    const outcome = await registerItem(deps, client, credentials, document.businessId, product);
    if (outcome.kind === 'retryable')
      throw new EtimsRetryable(`eTIMS saveItem: ${outcome.message}`);
    if (outcome.kind === 'refused') {
      await failDocument(
        deps,
        document,
        outcome.resultCd,
        `item "${product.name}": ${outcome.resultMsg}`,
      );
      return 'failed';
    }
    codes.set(product.id, outcome.itemCode);
  }
  return codes;
}

export type ProductForItem = Awaited<ReturnType<typeof repo.findProductsForItems>>[number];

/** saveItem of one product at one branch; records the branch on success (or 994). */
export async function registerItem(
  deps: AppDeps,
  client: EtimsClient,
  credentials: OscuCredentials,
  businessId: string,
  product: ProductForItem,
): Promise<
  | { kind: 'done'; itemCode: string }
  | { kind: 'retryable'; message: string }
  | { kind: 'refused'; resultCd: string; resultMsg: string }
> {
  const itemCode =
    product.itemCode ??
    (await deps.db.transaction((tx) =>
      repo.ensureItemCode(tx, businessId, product.id, itemCodeOf),
    ));
  const taxType = effectiveTaxType(product);
  if (!taxType) {
    return {
      kind: 'refused',
      resultCd: 'TAX_TYPE',
      resultMsg: `taxRate ${product.taxRate} is no eTIMS band: set taxType on the product`,
    };
  }
  const outcome = await client.saveItem(
    credentials,
    buildItemRequest({
      tin: credentials.tin,
      bhfId: credentials.bhfId,
      itemCode,
      itemClassCode: product.itemClassCode ?? DEFAULT_ITEM_CLASS_CODE,
      name: product.name,
      unit: product.unit,
      taxType,
      price: product.price,
      barcode: product.barcode,
      trackStock: product.trackStock,
      archived: product.archived,
    }),
  );
  if (outcome.kind === 'success' || outcome.kind === 'duplicate') {
    await repo.markItemRegistered(
      deps.db,
      businessId,
      product.id,
      credentials.bhfId,
      product.version,
    );
    return { kind: 'done', itemCode };
  }
  if (outcome.kind === 'retryable') return { kind: 'retryable', message: outcome.message };
  return { kind: 'refused', resultCd: outcome.resultCd, resultMsg: outcome.resultMsg };
}

/**
 * §3.1: stock in/out for the signed document (insertStockIO, sarNo = its invoice number, so
 * a resend is 994), then each tracked item's remaining quantity (saveStockMaster). A
 * refusal here does not unsign the invoice: it is logged and the document marked reported.
 */
async function reportStock(deps: AppDeps, document: repo.EtimsDocumentRow): Promise<void> {
  const settings = await repo.findSettings(deps.db, document.businessId);
  const loaded = await repo.loadSaleForInvoice(deps.db, document.businessId, document.saleId);
  if (!settings || !loaded || document.invoiceNumber === null) return;
  const content = await documentContent(deps, document, loaded);
  if (!content) return;
  if (content.stockLines.length === 0) {
    // Nothing came back into stock (a return of damaged goods): nothing to report.
    await repo.updateDocument(
      deps.db,
      document.id,
      { stockReportedAt: deps.clock() },
      deps.clock(),
    );
    return;
  }
  const locationId =
    loaded.sale.locationId ?? (await repo.findDefaultLocationId(deps.db, document.businessId));
  const device = await repo.findDevice(deps.db, document.businessId, locationId);
  if (!device) return;
  const credentials = credentialsOf(deps, device);
  const client = etimsClient(deps, settings.environment);
  const productIds = [...new Set(content.stockLines.map((line) => line.productId))];
  const items = await repo.findProductsForItems(deps.db, document.businessId, productIds);
  const codes = new Map(items.map((item) => [item.id, item.itemCode ?? '']));
  const sale = buildSaleRequest({
    tin: device.kraPin,
    bhfId: document.branchId ?? device.branchId,
    invoiceNumber: document.invoiceNumber,
    originalInvoiceNumber: document.originalInvoiceNumber ?? 0,
    kind: document.kind,
    tradeInvoiceNumber: content.tradeInvoiceNumber,
    occurredAt: content.occurredAt,
    confirmedAt: document.createdAt,
    paymentMethod: null,
    customerPhone: null,
    registrarName: REGISTRAR_ID,
    lines: content.stockLines.map((line) => ({
      itemCode: codes.get(line.productId) || 'UNKNOWN',
      itemClassCode: line.itemClassCode ?? DEFAULT_ITEM_CLASS_CODE,
      name: line.name,
      unit: line.unit,
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      discount: line.discount + line.saleDiscountShare,
      taxType: effectiveTaxType({ taxType: null, taxRate: line.taxRate }) ?? 'B',
    })),
  });
  const io = await client.saveStockIo(credentials, buildStockIoRequest(sale));
  if (io.kind === 'retryable') throw new EtimsRetryable(`eTIMS insertStockIO: ${io.message}`);
  if (io.kind === 'success' || io.kind === 'duplicate') {
    const tracked = items.flatMap((item) =>
      item.trackStock && item.itemCode !== null ? [{ ...item, itemCode: item.itemCode }] : [],
    );
    const levels = await repo.stockAt(
      deps.db,
      document.businessId,
      locationId,
      tracked.map((item) => item.id),
    );
    for (const item of tracked) {
      const master = await client.saveStockMaster(credentials, {
        tin: device.kraPin,
        bhfId: credentials.bhfId,
        itemCd: item.itemCode,
        rsdQty: Math.round((levels.get(item.id) ?? 0) * 100) / 100,
        regrId: REGISTRAR_ID,
        regrNm: REGISTRAR_ID,
        modrId: REGISTRAR_ID,
        modrNm: REGISTRAR_ID,
      });
      if (master.kind === 'retryable')
        throw new EtimsRetryable(`eTIMS saveStockMaster: ${master.message}`);
      if (master.kind === 'refused') {
        deps.logger.warn(
          { documentId: document.id, resultCd: master.resultCd },
          'eTIMS stock master refused',
        );
      }
    }
  } else {
    deps.logger.warn(
      { documentId: document.id, resultCd: io.resultCd },
      'eTIMS stock in/out refused',
    );
  }
  await repo.updateDocument(deps.db, document.id, { stockReportedAt: deps.clock() }, deps.clock());
}
