-- Customers and the debt book (customer_ledger_entries, customer_payments) and the SMS log.
--
-- Safe on a large database: new tables, one nullable column on sales (metadata only) and its
-- foreign key NOT VALID (no scan of sales under lock; every sales.customer_id is null until
-- now, so there is nothing to validate — `VALIDATE CONSTRAINT` later is a formality).
CREATE TABLE "customer_ledger_entries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"business_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"position" bigint NOT NULL,
	"type" text NOT NULL,
	"amount" bigint NOT NULL,
	"balance_after" bigint NOT NULL,
	"sale_id" uuid,
	"return_id" uuid,
	"payment_id" uuid,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customer_payments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"business_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"client_request_id" uuid NOT NULL,
	"request_hash" text NOT NULL,
	"amount" bigint NOT NULL,
	"method" text NOT NULL,
	"reference" text,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"shift_id" uuid,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"business_id" uuid NOT NULL,
	"name" text NOT NULL,
	"phone" text,
	"email" text,
	"kra_pin" text,
	"credit_limit" bigint,
	"note" text,
	"balance" bigint DEFAULT 0 NOT NULL,
	"entry_count" bigint DEFAULT 0 NOT NULL,
	"request_hash" text NOT NULL,
	"deleted_at" timestamp (3) with time zone,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customers_id_business_unique" UNIQUE("id","business_id")
);
--> statement-breakpoint
CREATE TABLE "sms_messages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"business_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"phone" text NOT NULL,
	"message" text NOT NULL,
	"sale_id" uuid,
	"customer_id" uuid,
	"status" text DEFAULT 'queued' NOT NULL,
	"provider_message_id" text,
	"cost" text,
	"failure_reason" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"requested_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp (3) with time zone,
	"delivered_at" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "sales" ADD COLUMN "customer_id" uuid;--> statement-breakpoint
ALTER TABLE "customer_ledger_entries" ADD CONSTRAINT "customer_ledger_customer_business_fk" FOREIGN KEY ("customer_id","business_id") REFERENCES "public"."customers"("id","business_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_payments" ADD CONSTRAINT "customer_payments_customer_business_fk" FOREIGN KEY ("customer_id","business_id") REFERENCES "public"."customers"("id","business_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customers" ADD CONSTRAINT "customers_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customers" ADD CONSTRAINT "customers_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sms_messages" ADD CONSTRAINT "sms_messages_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "customer_ledger_customer_position_unique" ON "customer_ledger_entries" USING btree ("customer_id","position");--> statement-breakpoint
CREATE INDEX "customer_ledger_business_sale_idx" ON "customer_ledger_entries" USING btree ("business_id","sale_id") WHERE "customer_ledger_entries"."sale_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "customer_payments_client_request_unique" ON "customer_payments" USING btree ("business_id","client_request_id");--> statement-breakpoint
CREATE INDEX "customer_payments_shift_idx" ON "customer_payments" USING btree ("business_id","shift_id") WHERE "customer_payments"."shift_id" is not null;--> statement-breakpoint
CREATE INDEX "customers_business_idx" ON "customers" USING btree ("business_id","id");--> statement-breakpoint
CREATE INDEX "customers_business_phone_idx" ON "customers" USING btree ("business_id","phone") WHERE "customers"."phone" is not null;--> statement-breakpoint
CREATE INDEX "sms_messages_business_idx" ON "sms_messages" USING btree ("business_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "sms_messages_provider_message_unique" ON "sms_messages" USING btree ("provider_message_id") WHERE "sms_messages"."provider_message_id" is not null;--> statement-breakpoint
ALTER TABLE "sales" ADD CONSTRAINT "sales_customer_business_fk" FOREIGN KEY ("customer_id","business_id") REFERENCES "public"."customers"("id","business_id") ON DELETE no action ON UPDATE no action NOT VALID;