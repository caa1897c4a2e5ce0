import { and, asc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import {
  businesses,
  etimsDevices,
  etimsDocuments,
  etimsInvoiceCounters,
  etimsItems,
  etimsSettings,
  locations,
  products,
  returnLines,
  returnRefunds,
  returns,
  saleLines,
  salePayments,
  sales,
  stockLevels,
  users,
  type EtimsDeviceRow,
  type EtimsDocumentRow,
  type EtimsSettingsRow,
} from '../../db/schema/index.js';

export type { EtimsDeviceRow, EtimsDocumentRow, EtimsSettingsRow };

export async function findSettings(
  db: DbOrTx,
  businessId: string,
): Promise<EtimsSettingsRow | undefined> {
  const [row] = await db
    .select()
    .from(etimsSettings)
    .where(eq(etimsSettings.businessId, businessId));
  return row;
}

/** Upserts the settings; `enabledAt` moves only when eTIMS is switched from off to on. */
export async function saveSettings(
  tx: DbOrTx,
  businessId: string,
  values: { kraPin: string; environment: 'sandbox' | 'production'; enabled: boolean },
  now: Date,
): Promise<EtimsSettingsRow> {
  const [row] = await tx
    .insert(etimsSettings)
    .values({ businessId, ...values, enabledAt: values.enabled ? now : null, updatedAt: now })
    .onConflictDoUpdate({
      target: etimsSettings.businessId,
      set: {
        kraPin: values.kraPin,
        environment: values.environment,
        enabled: values.enabled,
        enabledAt: sql`case when ${values.enabled}::boolean and not ${etimsSettings.enabled}
          then ${now.toISOString()}::timestamptz else ${etimsSettings.enabledAt} end`,
        updatedAt: now,
      },
    })
    .returning();
  if (!row) throw new Error('etims_settings upsert returned no row');
  return row;
}

export function listLocations(db: DbOrTx, businessId: string) {
  return db
    .select({
      id: locations.id,
      name: locations.name,
      etimsBranchId: locations.etimsBranchId,
      isDefault: locations.isDefault,
      archived: locations.archived,
    })
    .from(locations)
    .where(eq(locations.businessId, businessId))
    .orderBy(asc(locations.createdAt), asc(locations.id));
}

export function listDevices(db: DbOrTx, businessId: string): Promise<EtimsDeviceRow[]> {
  return db.select().from(etimsDevices).where(eq(etimsDevices.businessId, businessId));
}

export async function saveDevice(tx: DbOrTx, row: EtimsDeviceRow): Promise<void> {
  await tx
    .insert(etimsDevices)
    .values(row)
    .onConflictDoUpdate({
      target: [etimsDevices.businessId, etimsDevices.locationId],
      set: { ...row },
    });
}

export async function findDocument(db: DbOrTx, id: string): Promise<EtimsDocumentRow | undefined> {
  const [row] = await db.select().from(etimsDocuments).where(eq(etimsDocuments.id, id));
  return row;
}

/** The document locked for this worker, or undefined when another worker holds it now. */
export async function lockDocument(
  tx: DbOrTx,
  id: string,
  wait: boolean,
): Promise<EtimsDocumentRow | undefined> {
  const rows = await tx
    .select()
    .from(etimsDocuments)
    .where(eq(etimsDocuments.id, id))
    .for('update', wait ? {} : { skipLocked: true });
  return rows[0];
}

export async function updateDocument(
  tx: DbOrTx,
  id: string,
  changes: Partial<Omit<EtimsDocumentRow, 'id' | 'businessId' | 'saleId' | 'kind'>>,
  now: Date,
): Promise<EtimsDocumentRow> {
  const [row] = await tx
    .update(etimsDocuments)
    .set({ ...changes, updatedAt: now })
    .where(eq(etimsDocuments.id, id))
    .returning();
  if (!row) throw new Error(`etims document ${id} vanished`);
  return row;
}

/** The next invoice number of a branch: gap-free (the counter row lock is held to commit). */
export async function takeInvoiceNumber(
  tx: DbOrTx,
  businessId: string,
  branchId: string,
): Promise<number> {
  const [row] = await tx
    .insert(etimsInvoiceCounters)
    .values({ businessId, branchId, lastNumber: 1 })
    .onConflictDoUpdate({
      target: [etimsInvoiceCounters.businessId, etimsInvoiceCounters.branchId],
      set: { lastNumber: sql`${etimsInvoiceCounters.lastNumber} + 1` },
    })
    .returning({ lastNumber: etimsInvoiceCounters.lastNumber });
  if (!row) throw new Error('etims_invoice_counters upsert returned no row');
  return row.lastNumber;
}

/** The documents of these sales (sale invoices and void credit notes, not returns'). */
export function documentsOfSales(
  db: DbOrTx,
  businessId: string,
  saleIds: readonly string[],
): Promise<EtimsDocumentRow[]> {
  if (saleIds.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(etimsDocuments)
    .where(
      and(
        eq(etimsDocuments.businessId, businessId),
        inArray(etimsDocuments.saleId, [...saleIds]),
        isNull(etimsDocuments.returnId),
      ),
    );
}

/** The credit notes of these returns (one per return at most). */
export function documentsOfReturns(
  db: DbOrTx,
  businessId: string,
  returnIds: readonly string[],
): Promise<EtimsDocumentRow[]> {
  if (returnIds.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(etimsDocuments)
    .where(
      and(
        eq(etimsDocuments.businessId, businessId),
        inArray(etimsDocuments.returnId, [...returnIds]),
      ),
    );
}

/** The credit notes of a sale's returns. */
export function returnDocumentsOfSale(
  db: DbOrTx,
  businessId: string,
  saleId: string,
): Promise<EtimsDocumentRow[]> {
  return db
    .select()
    .from(etimsDocuments)
    .where(
      and(
        eq(etimsDocuments.businessId, businessId),
        eq(etimsDocuments.saleId, saleId),
        isNotNull(etimsDocuments.returnId),
      ),
    );
}

/**
 * A return with what its credit note needs: its lines in the shape of the sale's invoice
 * lines (the returned quantity at the sold unit price, the difference to the refunded line
 * total as the discount, so the taxable amount is exactly what was refunded), and refunds.
 */
export async function loadReturnForCreditNote(db: DbOrTx, businessId: string, returnId: string) {
  const [ret] = await db
    .select()
    .from(returns)
    .where(and(eq(returns.businessId, businessId), eq(returns.id, returnId)));
  if (!ret) return undefined;
  const [lines, refunds] = await Promise.all([
    db
      .select({
        productId: returnLines.productId,
        name: returnLines.name,
        quantity: returnLines.quantity,
        unitPrice: returnLines.unitPrice,
        taxRate: returnLines.taxRate,
        total: returnLines.total,
        restocked: returnLines.restocked,
        productTaxType: products.taxType,
        productTaxRate: products.taxRate,
        unit: products.unit,
        itemClassCode: products.etimsItemClassCode,
      })
      .from(returnLines)
      .innerJoin(
        products,
        and(
          eq(products.id, returnLines.productId),
          eq(products.businessId, returnLines.businessId),
        ),
      )
      .where(and(eq(returnLines.businessId, businessId), eq(returnLines.returnId, returnId)))
      .orderBy(asc(returnLines.position)),
    db
      .select({ method: returnRefunds.method, amount: returnRefunds.amount })
      .from(returnRefunds)
      .where(and(eq(returnRefunds.businessId, businessId), eq(returnRefunds.returnId, returnId))),
  ]);
  return {
    ret,
    refunds,
    lines: lines.map(({ total, ...line }) => ({
      ...line,
      discount: Math.max(0, Math.round(line.quantity * line.unitPrice) - total),
      saleDiscountShare: 0,
    })),
  };
}

export async function insertDocument(
  tx: DbOrTx,
  row: Pick<EtimsDocumentRow, 'id' | 'businessId' | 'saleId' | 'kind'> & {
    returnId?: string | null;
  },
): Promise<boolean> {
  const inserted = await tx
    .insert(etimsDocuments)
    .values(row)
    .onConflictDoNothing()
    .returning({ id: etimsDocuments.id });
  return inserted.length > 0;
}

/** A sale with what its invoice needs: lines with their products' eTIMS fields, payments. */
export async function loadSaleForInvoice(db: DbOrTx, businessId: string, saleId: string) {
  const [sale] = await db
    .select()
    .from(sales)
    .where(and(eq(sales.businessId, businessId), eq(sales.id, saleId)));
  if (!sale) return undefined;
  const [lines, payments, cashier] = await Promise.all([
    db
      .select({
        productId: saleLines.productId,
        name: saleLines.name,
        quantity: saleLines.quantity,
        unitPrice: saleLines.unitPrice,
        taxRate: saleLines.taxRate,
        discount: saleLines.discount,
        saleDiscountShare: saleLines.saleDiscountShare,
        productTaxType: products.taxType,
        productTaxRate: products.taxRate,
        unit: products.unit,
        itemClassCode: products.etimsItemClassCode,
      })
      .from(saleLines)
      .innerJoin(
        products,
        and(eq(products.id, saleLines.productId), eq(products.businessId, saleLines.businessId)),
      )
      .where(and(eq(saleLines.businessId, businessId), eq(saleLines.saleId, saleId)))
      .orderBy(asc(saleLines.position)),
    db
      .select({ method: salePayments.method, amount: salePayments.amount })
      .from(salePayments)
      .where(and(eq(salePayments.businessId, businessId), eq(salePayments.saleId, saleId))),
    db.select({ name: users.name }).from(users).where(eq(users.id, sale.cashierId)),
  ]);
  return { sale, lines, payments, cashierName: cashier[0]?.name ?? '' };
}

export async function findDefaultLocationId(db: DbOrTx, businessId: string): Promise<string> {
  const [row] = await db
    .select({ id: locations.id })
    .from(locations)
    .where(and(eq(locations.businessId, businessId), eq(locations.isDefault, true)));
  if (!row) throw new Error(`business ${businessId} has no default location`);
  return row.id;
}

export async function findDevice(
  db: DbOrTx,
  businessId: string,
  locationId: string,
): Promise<EtimsDeviceRow | undefined> {
  const [row] = await db
    .select()
    .from(etimsDevices)
    .where(and(eq(etimsDevices.businessId, businessId), eq(etimsDevices.locationId, locationId)));
  return row;
}

export function findProductsForItems(db: DbOrTx, businessId: string, productIds: string[]) {
  return db
    .select({
      id: products.id,
      name: products.name,
      unit: products.unit,
      price: products.price,
      barcode: products.barcode,
      taxType: products.taxType,
      taxRate: products.taxRate,
      itemClassCode: products.etimsItemClassCode,
      trackStock: products.trackStock,
      archived: products.archived,
      version: products.version,
      itemCode: etimsItems.itemCode,
      registeredBranches: etimsItems.registeredBranches,
      registeredVersion: etimsItems.registeredVersion,
    })
    .from(products)
    .leftJoin(
      etimsItems,
      and(eq(etimsItems.businessId, products.businessId), eq(etimsItems.productId, products.id)),
    )
    .where(and(eq(products.businessId, businessId), inArray(products.id, productIds)));
}

/** The product's item code, handing out the business's next one on first use. */
export async function ensureItemCode(
  tx: DbOrTx,
  businessId: string,
  productId: string,
  codeOf: (sequence: number) => string,
): Promise<string> {
  const [existing] = await tx
    .select({ itemCode: etimsItems.itemCode })
    .from(etimsItems)
    .where(and(eq(etimsItems.businessId, businessId), eq(etimsItems.productId, productId)));
  if (existing) return existing.itemCode;
  const [settings] = await tx
    .update(etimsSettings)
    .set({ lastItemSeq: sql`${etimsSettings.lastItemSeq} + 1` })
    .where(eq(etimsSettings.businessId, businessId))
    .returning({ seq: etimsSettings.lastItemSeq });
  if (!settings) throw new Error('eTIMS settings missing');
  const itemCode = codeOf(settings.seq);
  const [row] = await tx
    .insert(etimsItems)
    .values({ businessId, productId, itemCode })
    .onConflictDoNothing()
    .returning({ itemCode: etimsItems.itemCode });
  return row?.itemCode ?? itemCode;
}

/** Records that `branchId` holds `version` of the item (a newer version resets the list). */
export async function markItemRegistered(
  db: DbOrTx,
  businessId: string,
  productId: string,
  branchId: string,
  version: number,
): Promise<void> {
  await db
    .update(etimsItems)
    .set({
      registeredBranches: sql`case when ${etimsItems.registeredVersion} = ${version}
        then array(select distinct unnest(${etimsItems.registeredBranches} || array[${branchId}::text]))
        else array[${branchId}::text] end`,
      registeredVersion: version,
      updatedAt: new Date(),
    })
    .where(and(eq(etimsItems.businessId, businessId), eq(etimsItems.productId, productId)));
}

/** Remaining quantity of products at a location (for saveStockMaster). */
export async function stockAt(
  db: DbOrTx,
  businessId: string,
  locationId: string,
  productIds: string[],
): Promise<Map<string, number>> {
  if (productIds.length === 0) return new Map();
  const rows = await db
    .select({ productId: stockLevels.productId, quantity: stockLevels.quantity })
    .from(stockLevels)
    .where(
      and(
        eq(stockLevels.businessId, businessId),
        eq(stockLevels.locationId, locationId),
        inArray(stockLevels.productId, productIds),
      ),
    );
  return new Map(rows.map((row) => [row.productId, row.quantity]));
}

/** Who hears of a refusal: the business's active owners and managers. */
export function findManagers(db: DbOrTx, businessId: string) {
  return db
    .select({ email: users.email, businessName: businesses.name })
    .from(users)
    .innerJoin(businesses, eq(businesses.id, users.businessId))
    .where(
      and(
        eq(users.businessId, businessId),
        inArray(users.role, ['owner', 'manager']),
        eq(users.status, 'active'),
      ),
    );
}

export async function saleExists(db: DbOrTx, businessId: string, saleId: string) {
  const [row] = await db
    .select({ id: sales.id, locationId: sales.locationId })
    .from(sales)
    .where(and(eq(sales.businessId, businessId), eq(sales.id, saleId)));
  return row;
}
