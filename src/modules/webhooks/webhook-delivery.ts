import { request, type Agent } from 'undici';
import { BlockedAddressError, checkUrlSyntax, type UrlPolicy } from './url-guard.js';
import { signWebhook } from './webhook-secret.js';

export interface DeliveryRequest {
  url: string;
  secret: string;
  /** The webhook-id: the outbox message id, the same on every attempt. */
  messageId: string;
  body: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
}

export interface AttemptResult {
  ok: boolean;
  responseStatus?: number;
  durationMs: number;
  error?: string;
}

/** Standard Webhooks headers for one attempt. */
export function webhookHeaders(delivery: DeliveryRequest): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'backend-api-webhooks/1',
    'webhook-id': delivery.messageId,
    'webhook-timestamp': String(delivery.timestamp),
    'webhook-signature': signWebhook(
      delivery.secret,
      delivery.messageId,
      delivery.timestamp,
      delivery.body,
    ),
  };
}

/**
 * One POST to the endpoint: 2xx is success, anything else (3xx included: redirects are not
 * followed) a failure. The response body is drained up to 64 KB and never stored.
 */
export async function postWebhook(
  agent: Agent,
  policy: UrlPolicy,
  timeoutMs: number,
  delivery: DeliveryRequest,
): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  // IP-literal hosts never reach the agent's lookup, so they are checked here.
  const syntax = checkUrlSyntax(delivery.url, policy);
  if (!syntax.ok) return { ok: false, durationMs: 0, error: `URL ${syntax.reason}` };
  try {
    const response = await request(syntax.url, {
      method: 'POST',
      dispatcher: agent,
      headers: webhookHeaders(delivery),
      body: delivery.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    return {
      ok,
      responseStatus: response.statusCode,
      durationMs: elapsed(),
      ...(ok ? {} : { error: `HTTP ${response.statusCode}` }),
    };
  } catch (error) {
    return { ok: false, durationMs: elapsed(), error: describeError(error) };
  }
}

function describeError(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current instanceof BlockedAddressError) return current.message;
    current = current.cause;
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.name === 'TimeoutError' ? 'timed out' : error.message}${cause}`.slice(0, 500);
  }
  return 'request failed';
}
