import { digestsQueue } from '../emails/low-stock-digest.job.js';
import { emailQueue } from '../emails/email.job.js';
import { webhooksQueue } from '../modules/webhooks/webhooks.job.js';
import { maintenanceQueue } from './maintenance.job.js';
import { mpesaQueue } from '../modules/payments/payments.jobs.js';
import { reportsQueue } from '../modules/reports/exports.job.js';
import type { QueueDefinition } from './types.js';

/** Every queue the worker process serves. Add a module's QueueDefinition here. */
export const queueDefinitions: QueueDefinition[] = [
  maintenanceQueue,
  emailQueue,
  webhooksQueue,
  digestsQueue,
  mpesaQueue,
  reportsQueue,
];
