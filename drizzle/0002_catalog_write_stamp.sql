-- The catalog write order (src/modules/catalog/catalog.repo.ts lockCatalogAndStamp) as one
-- function, so a single statement can join it: takes the business's catalog advisory lock,
-- then returns greatest(now in ms, latest updated_at + 1 ms). VOLATILE on purpose: its
-- query takes a fresh snapshot after the lock is granted, so it sees every commit of the
-- previous lock holder (a plain subquery would use the calling statement's older snapshot).
CREATE OR REPLACE FUNCTION catalog_write_stamp(p_business_id uuid) RETURNS timestamptz
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  stamp timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('catalog:' || p_business_id::text, 0));
  SELECT greatest(
    date_trunc('milliseconds', clock_timestamp()),
    (SELECT max(updated_at) + interval '1 millisecond' FROM products WHERE business_id = p_business_id)
  ) INTO stamp;
  RETURN stamp;
END
$$;
