import { jobTraceId, type TracedJob } from './trace.js';

/**
 * Where the app reports errors an operator must see (5xx answers, dead internal jobs).
 * The app calls these; src/observability/sentry.ts plugs Sentry in when SENTRY_DSN is set
 * (from src/otel-register.ts), so without it nothing here loads the Sentry SDK.
 */
export interface RequestErrorContext {
  requestId: string;
  method: string;
  /** Route template (`/sales/:id`), never the raw path (tokens live in some paths). */
  route?: string;
  status: number;
  businessId?: string;
  userId?: string;
}

export interface JobErrorContext {
  queue: string;
  jobName: string;
  jobId?: string;
  attempts: number;
  /** The trace the job continued (the request's that caused it). */
  traceId?: string;
  businessId?: string;
}

export interface ErrorReporter {
  requestError: (error: unknown, request: RequestErrorContext) => void;
  deadJob: (error: unknown, job: JobErrorContext) => void;
}

let reporter: ErrorReporter | undefined;

export function setErrorReporter(next: ErrorReporter | undefined): void {
  reporter = next;
}

/** A 5xx answer: the error behind it, with the request id, route, business and trace. */
export function reportRequestError(error: unknown, request: RequestErrorContext): void {
  reporter?.requestError(error, request);
}

/** A job that used up its attempts (or failed for good), unless a peer was at fault. */
export function reportDeadJob(error: unknown, queue: string, job: TracedJob): void {
  if (!reporter || isPeerFailure(error)) return;
  const { businessId } = (job.data ?? {}) as { businessId?: unknown };
  reporter.deadJob(error, {
    queue,
    jobName: job.name,
    jobId: job.id,
    attempts: job.attemptsMade,
    traceId: jobTraceId(job),
    businessId: typeof businessId === 'string' ? businessId : undefined,
  });
}

const PEER_FAILURE = Symbol('peerFailure');

/**
 * Marks a job failure as the peer's problem, not ours (a customer's webhook endpoint that
 * stays down): it is shown in the delivery log, not reported as an error of this service.
 */
export function asPeerFailure<T extends Error>(error: T): T {
  Object.defineProperty(error, PEER_FAILURE, { value: true });
  return error;
}

export const isPeerFailure = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && PEER_FAILURE in error;
