CREATE UNIQUE INDEX "categories_business_name_unique" ON "categories" USING btree ("business_id",lower("name"));--> statement-breakpoint
CREATE UNIQUE INDEX "products_business_sku_unique" ON "products" USING btree ("business_id","sku") WHERE "products"."archived" = false and "products"."sku" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "products_business_barcode_unique" ON "products" USING btree ("business_id","barcode") WHERE "products"."archived" = false and "products"."barcode" is not null;--> statement-breakpoint
CREATE INDEX "products_name_trgm_idx" ON "products" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "products_sku_trgm_idx" ON "products" USING gin ("sku" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "products_barcode_trgm_idx" ON "products" USING gin ("barcode" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "products_low_stock_idx" ON "products" USING btree ("business_id","id") WHERE "products"."track_stock" and not "products"."archived" and "products"."low_stock_threshold" is not null and "products"."stock_quantity" <= "products"."low_stock_threshold";