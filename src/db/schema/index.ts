// Every table, by area. drizzle-kit reads this file to generate migrations.
export * from './tenancy.js';
export * from './outbox.js';
export * from './idempotency.js';
export * from './catalog.js';
export * from './auth.js';
export * from './sales.js';
export * from './payments.js';
export * from './jobs.js';
export * from './reports.js';
export * from './shifts.js';
export * from './customers.js';
export * from './sms.js';
