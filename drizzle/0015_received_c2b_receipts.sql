-- The claim step of a sale write (src/modules/till/till.service.ts claimReceiptsOfNewSales)
-- in one round trip: takes each named receipt's advisory lock (the lock the confirmation's
-- apply step takes, till.repo.ts lockReceipt), in the order given (sorted by the caller, so
-- two callers never wait on each other in a cycle), then returns the TransIDs among them
-- already received. VOLATILE plpgsql on purpose: its query takes a fresh snapshot after
-- the locks are granted, so it sees a receipt whose apply step committed while we waited
-- (a plain statement would keep its older snapshot, as 0002_catalog_write_stamp explains).
CREATE OR REPLACE FUNCTION received_c2b_receipts(p_business_id uuid, p_trans_ids text[])
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  trans_id text;
BEGIN
  FOREACH trans_id IN ARRAY p_trans_ids LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended('c2b:' || p_business_id::text || ':' || trans_id, 0));
  END LOOP;
  RETURN QUERY
    SELECT c.trans_id FROM c2b_payments c
    WHERE c.business_id = p_business_id AND c.trans_id = ANY(p_trans_ids);
END
$$;
