-- KRA eTIMS (issue 20). products.tax_type is added empty, no backfill UPDATE (no rewrite of a big
-- table): a null tax_type reads as derived from tax_rate (1600 -> B, 800 -> E, 0 -> A exempt;
-- the shop changes it with PATCH /products/:id {taxType}); every product write sets it.
CREATE TABLE "etims_devices" (
	"business_id" uuid NOT NULL,
	"location_id" uuid NOT NULL,
	"branch_id" text NOT NULL,
	"kra_pin" text NOT NULL,
	"environment" text NOT NULL,
	"sdc_id" text,
	"mrc_no" text,
	"dvc_id" text,
	"info" jsonb NOT NULL,
	"cmc_key_ciphertext" text NOT NULL,
	"initialized_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "etims_devices_business_id_location_id_pk" PRIMARY KEY("business_id","location_id")
);
--> statement-breakpoint
CREATE TABLE "etims_documents" (
	"id" uuid PRIMARY KEY NOT NULL,
	"business_id" uuid NOT NULL,
	"sale_id" uuid NOT NULL,
	"return_id" uuid,
	"kind" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"branch_id" text,
	"invoice_number" bigint,
	"original_invoice_number" bigint,
	"attempts" integer DEFAULT 0 NOT NULL,
	"receipt_number" bigint,
	"total_receipt_number" bigint,
	"internal_data" text,
	"signature" text,
	"sdc_id" text,
	"sdc_date_time" text,
	"duplicate" boolean DEFAULT false NOT NULL,
	"error_code" text,
	"error_message" text,
	"signed_at" timestamp (3) with time zone,
	"stock_reported_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "etims_invoice_counters" (
	"business_id" uuid NOT NULL,
	"branch_id" text NOT NULL,
	"last_number" bigint NOT NULL,
	CONSTRAINT "etims_invoice_counters_business_id_branch_id_pk" PRIMARY KEY("business_id","branch_id")
);
--> statement-breakpoint
CREATE TABLE "etims_items" (
	"business_id" uuid NOT NULL,
	"product_id" uuid NOT NULL,
	"item_code" text NOT NULL,
	"registered_branches" text[] DEFAULT '{}'::text[] NOT NULL,
	"registered_version" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "etims_items_business_id_product_id_pk" PRIMARY KEY("business_id","product_id")
);
--> statement-breakpoint
CREATE TABLE "etims_settings" (
	"business_id" uuid PRIMARY KEY NOT NULL,
	"kra_pin" text NOT NULL,
	"environment" text NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"enabled_at" timestamp (3) with time zone,
	"last_item_seq" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "tax_type" text;--> statement-breakpoint
ALTER TABLE "products" ADD COLUMN "etims_item_class_code" text;--> statement-breakpoint
ALTER TABLE "etims_devices" ADD CONSTRAINT "etims_devices_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "etims_documents" ADD CONSTRAINT "etims_documents_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "etims_invoice_counters" ADD CONSTRAINT "etims_invoice_counters_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "etims_items" ADD CONSTRAINT "etims_items_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "etims_settings" ADD CONSTRAINT "etims_settings_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "etims_documents_sale_kind_unique" ON "etims_documents" USING btree ("business_id","sale_id","kind") WHERE "etims_documents"."return_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "etims_documents_return_unique" ON "etims_documents" USING btree ("business_id","return_id") WHERE "etims_documents"."return_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "etims_documents_invoice_unique" ON "etims_documents" USING btree ("business_id","branch_id","invoice_number") WHERE "etims_documents"."invoice_number" is not null;--> statement-breakpoint
CREATE INDEX "etims_documents_status_idx" ON "etims_documents" USING btree ("business_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "etims_items_code_unique" ON "etims_items" USING btree ("business_id","item_code");