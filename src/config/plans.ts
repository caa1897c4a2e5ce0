import { z } from 'zod';
import { defineArea } from './area.js';

/** Cents that are whole shillings: M-Pesa only moves whole shillings. */
const wholeShillings = z.coerce
  .number()
  .int()
  .min(100)
  .refine((cents) => cents % 100 === 0, {
    message: 'must be whole shillings (a multiple of 100 cents)',
  });

/** Subscription plan prices. */
export const plansArea = defineArea({
  schema: z.object({
    PLAN_MONTHLY_PRICE: wholeShillings.default(150_000),
    PLAN_ANNUAL_PRICE: wholeShillings.default(1_500_000),
  }),
  build: (env) => ({ plans: { monthly: env.PLAN_MONTHLY_PRICE, annual: env.PLAN_ANNUAL_PRICE } }),
});
