-- M-Pesa at the till: a business's own Daraja settings, the C2B inbox and till payments (new
-- tables), and sale_payments.needs_review (a constant default: metadata only, no rewrite).
CREATE TABLE "business_mpesa_settings" (
	"business_id" uuid PRIMARY KEY NOT NULL,
	"environment" text NOT NULL,
	"type" text NOT NULL,
	"shortcode" text NOT NULL,
	"till_number" text,
	"consumer_key_ciphertext" text NOT NULL,
	"consumer_secret_ciphertext" text NOT NULL,
	"passkey_ciphertext" text NOT NULL,
	"c2b_token_hash" text NOT NULL,
	"c2b_token_ciphertext" text NOT NULL,
	"c2b_registered_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "business_mpesa_settings_c2b_token_hash_unique" UNIQUE("c2b_token_hash")
);
--> statement-breakpoint
CREATE TABLE "c2b_inbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"business_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"raw_payload" jsonb NOT NULL,
	"source_ip" text,
	"received_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp (3) with time zone,
	"outcome" text
);
--> statement-breakpoint
CREATE TABLE "c2b_payments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"business_id" uuid NOT NULL,
	"trans_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"msisdn" text NOT NULL,
	"first_name" text NOT NULL,
	"bill_ref_number" text NOT NULL,
	"trans_time" text NOT NULL,
	"shortcode" text NOT NULL,
	"transaction_type" text NOT NULL,
	"inbox_id" uuid NOT NULL,
	"sale_id" uuid,
	"sale_payment_id" uuid,
	"claimed_at" timestamp (3) with time zone,
	"received_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sale_payments" ADD COLUMN "needs_review" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "business_mpesa_settings" ADD CONSTRAINT "business_mpesa_settings_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "c2b_inbox" ADD CONSTRAINT "c2b_inbox_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "c2b_payments" ADD CONSTRAINT "c2b_payments_business_id_businesses_id_fk" FOREIGN KEY ("business_id") REFERENCES "public"."businesses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "c2b_inbox_business_idx" ON "c2b_inbox" USING btree ("business_id","received_at");--> statement-breakpoint
CREATE INDEX "c2b_inbox_unprocessed_idx" ON "c2b_inbox" USING btree ("received_at") WHERE "c2b_inbox"."processed_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "c2b_payments_business_trans_id_unique" ON "c2b_payments" USING btree ("business_id","trans_id");--> statement-breakpoint
CREATE INDEX "c2b_payments_business_received_idx" ON "c2b_payments" USING btree ("business_id","received_at","id");--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "business_credentials" boolean DEFAULT false NOT NULL;
