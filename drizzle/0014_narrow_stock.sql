-- Narrow product stock (issue #24): a product's total stock and the stamp the delta sync
-- orders by move from the wide products row to product_stock, so a sale or stock movement
-- no longer rewrites the product row and all its indexes (src/db/schema/catalog.ts).
CREATE TABLE "product_stock" (
	"business_id" uuid NOT NULL,
	"product_id" uuid NOT NULL,
	"quantity" numeric(14, 3) DEFAULT 0 NOT NULL,
	"changed_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "product_stock_pkey" PRIMARY KEY("business_id","product_id")
);
--> statement-breakpoint
-- Every product's row, from the columns it replaces: products.updated_at was bumped by stock
-- changes too, so it is the product's change stamp as devices last saw it (no product is
-- re-sent, none is missed). One narrow pass inside the migration, as 0004 filled
-- stock_levels: the migration holds products' lock, so no sale writes in between.
INSERT INTO "product_stock" (business_id, product_id, quantity, changed_at)
  SELECT business_id, id, stock_quantity, updated_at FROM "products";--> statement-breakpoint
-- Every product has its row from its first instant, whatever inserts it (the API, the seed,
-- tests, benchmarks): stock 0 (levels only change through the ledger), changed when created.
CREATE FUNCTION "product_stock_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO product_stock (business_id, product_id, quantity, changed_at)
  SELECT business_id, id, 0, updated_at FROM inserted;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "products_stock_row" AFTER INSERT ON "products"
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION "product_stock_insert"();--> statement-breakpoint
ALTER TABLE "product_stock" ADD CONSTRAINT "product_stock_product_business_fk" FOREIGN KEY ("product_id","business_id") REFERENCES "public"."products"("id","business_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "product_stock_business_changed_idx" ON "product_stock" USING btree ("business_id","changed_at","product_id");--> statement-breakpoint
-- The change order now lives in product_stock.changed_at: the catalog write stamp (0002)
-- follows the latest of those, so each write is still stamped after every earlier change.
CREATE OR REPLACE FUNCTION catalog_write_stamp(p_business_id uuid) RETURNS timestamptz
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  stamp timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('catalog:' || p_business_id::text, 0));
  SELECT greatest(
    date_trunc('milliseconds', clock_timestamp()),
    (SELECT max(changed_at) + interval '1 millisecond' FROM product_stock WHERE business_id = p_business_id)
  ) INTO stamp;
  RETURN stamp;
END
$$;--> statement-breakpoint
-- Nothing orders products by updated_at any more (the page scans product_stock's index).
DROP INDEX "products_business_updated_idx";--> statement-breakpoint
ALTER TABLE "products" DROP COLUMN "stock_quantity";
