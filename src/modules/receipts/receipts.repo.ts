import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import type { ReceiptContext } from './receipt.model.js';

type ContextRow = {
  businessName: string;
  businessPhone: string | null;
  locationId: string | null;
  locationName: string | null;
  locationAddress: string | null;
  locationPhone: string | null;
  cashierName: string | null;
  lineTerms: { id: string; taxRate: number; saleDiscountShare: string | number }[];
};

/**
 * Everything a sale's receipt prints beyond the Sale resource, in one round trip: the
 * business, the location the sale was made at, the cashier's name and each line's tax rate
 * and share of the sale discount (the VAT bands are computed from those).
 */
export async function findSaleReceiptContext(
  db: DbOrTx,
  businessId: string,
  saleId: string,
  timezone: string,
): Promise<ReceiptContext | undefined> {
  const result = await db.execute<ContextRow>(sql`
    select b.name as "businessName", b.phone as "businessPhone",
           l.id as "locationId", l.name as "locationName", l.address as "locationAddress",
           l.phone as "locationPhone", u.name as "cashierName",
           (select coalesce(json_agg(json_build_object('id', sl.id, 'taxRate', sl.tax_rate,
                     'saleDiscountShare', sl.sale_discount_share)), '[]'::json)
              from sale_lines sl where sl.sale_id = s.id and sl.business_id = s.business_id)
             as "lineTerms"
      from sales s
      join businesses b on b.id = s.business_id
      left join locations l on l.id = s.location_id and l.business_id = s.business_id
      left join users u on u.id = s.cashier_id and u.business_id = s.business_id
     where s.business_id = ${businessId} and s.id = ${saleId}`);
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    business: { name: row.businessName, phone: row.businessPhone },
    location: {
      id: row.locationId,
      name: row.locationName ?? row.businessName,
      address: row.locationAddress,
      phone: row.locationPhone,
    },
    cashierName: row.cashierName ?? 'Former staff',
    timezone,
    lineTerms: new Map(
      row.lineTerms.map((line) => [
        line.id,
        { taxRate: line.taxRate, saleDiscountShare: Number(line.saleDiscountShare) },
      ]),
    ),
  };
}
