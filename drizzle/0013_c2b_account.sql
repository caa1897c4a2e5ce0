ALTER TABLE "customer_payments" ADD COLUMN "needs_review" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "c2b_payments" ADD COLUMN "customer_payment_id" uuid;