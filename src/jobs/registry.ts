import { maintenanceQueue } from './maintenance.job.js';
import { mpesaQueue } from '../modules/payments/payments.jobs.js';
import type { QueueDefinition } from './types.js';

/** Every queue the worker process serves. Add a module's QueueDefinition here. */
export const queueDefinitions: QueueDefinition[] = [maintenanceQueue, mpesaQueue];
