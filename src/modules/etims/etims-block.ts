import type { DbOrTx } from '../../db/client.js';
import type { EtimsDocumentRow } from '../../db/schema/index.js';
import { receiptQrUrl } from './etims-invoice.js';
import type { EtimsBlock } from './etims.schemas.js';
import { documentsOfReturns, documentsOfSales, findSettings } from './etims.repo.js';

interface BlockSettings {
  environment: 'sandbox' | 'production';
  kraPin: string;
}

/** The `etims` block of one document (API.md "KRA eTIMS"). */
export function presentBlock(document: EtimsDocumentRow, settings: BlockSettings): EtimsBlock {
  return {
    status: document.status,
    invoiceNumber: document.invoiceNumber,
    receiptNumber: document.receiptNumber,
    totalReceiptNumber: document.totalReceiptNumber,
    internalData: document.internalData,
    signature: document.signature,
    sdcId: document.sdcId,
    sdcDateTime: document.sdcDateTime,
    qrUrl:
      document.signature && document.branchId
        ? receiptQrUrl(settings.environment, settings.kraPin, document.branchId, document.signature)
        : null,
    ...(document.status === 'failed' && document.errorCode
      ? { error: { code: document.errorCode, message: document.errorMessage ?? '' } }
      : {}),
  };
}

/**
 * The block of an invoice just created with its sale (sale-write.statement.ts): pending, not
 * numbered or signed yet, no credit note — what presentBlock gives for that row.
 */
export function pendingInvoiceBlock(): EtimsBlock {
  return {
    status: 'pending',
    invoiceNumber: null,
    receiptNumber: null,
    totalReceiptNumber: null,
    internalData: null,
    signature: null,
    sdcId: null,
    sdcDateTime: null,
    qrUrl: null,
    creditNote: null,
  };
}

/**
 * The `etims` block of each sale: its invoice, with the credit note of its void when there is
 * one; null for a sale that is not transmitted (eTIMS off, or made before it was switched on).
 */
export async function etimsBlocksOfSales(
  db: DbOrTx,
  businessId: string,
  saleIds: readonly string[],
): Promise<Map<string, EtimsBlock | null>> {
  const blocks = new Map<string, EtimsBlock | null>(saleIds.map((id) => [id, null]));
  const documents = await documentsOfSales(db, businessId, saleIds);
  if (documents.length === 0) return blocks;
  const settings = await findSettings(db, businessId);
  if (!settings) return blocks;
  for (const document of documents.filter((row) => row.kind === 'sale')) {
    const credit = documents.find(
      (row) => row.kind === 'credit_note' && row.saleId === document.saleId,
    );
    blocks.set(document.saleId, {
      ...presentBlock(document, settings),
      creditNote: credit
        ? {
            status: credit.status,
            invoiceNumber: credit.invoiceNumber,
            receiptNumber: credit.receiptNumber,
            signature: credit.signature,
          }
        : null,
    });
  }
  return blocks;
}

/** For receipts (text/ESC-POS/JSON): the sale's eTIMS block, or null. */
export async function etimsBlockOfSale(
  db: DbOrTx,
  businessId: string,
  saleId: string,
): Promise<EtimsBlock | null> {
  return (await etimsBlocksOfSales(db, businessId, [saleId])).get(saleId) ?? null;
}

/**
 * The `etims` block of each return: its credit note (R, referencing the sale's invoice);
 * null for a return whose sale has no eTIMS invoice.
 */
export async function etimsBlocksOfReturns(
  db: DbOrTx,
  businessId: string,
  returnIds: readonly string[],
): Promise<Map<string, EtimsBlock | null>> {
  const blocks = new Map<string, EtimsBlock | null>(returnIds.map((id) => [id, null]));
  const documents = await documentsOfReturns(db, businessId, returnIds);
  if (documents.length === 0) return blocks;
  const settings = await findSettings(db, businessId);
  if (!settings) return blocks;
  for (const document of documents) {
    if (document.returnId !== null) blocks.set(document.returnId, presentBlock(document, settings));
  }
  return blocks;
}
