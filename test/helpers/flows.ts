import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { eventually } from './jobs.js';
import type { Receiver, ReceivedWebhook } from './receiver.js';
import type { ReceivedMail, SmtpSink } from './smtp.js';

/** Every href in a mail's HTML part, entity-decoded as a browser would. */
export function hrefs(mail: ReceivedMail): string[] {
  return [...mail.html.matchAll(/href="([^"]*)"/g)].map((match) =>
    match[1]!
      .replace(/&amp;/g, '&')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>'),
  );
}

/** The one link in a mail: the same in its HTML and its text, and its `token` query value. */
export function linkIn(mail: ReceivedMail): { url: URL; token: string } {
  const links = hrefs(mail);
  expect(links).toHaveLength(1);
  const url = new URL(links[0]!);
  expect(mail.text).toContain(links[0]!);
  const token = url.searchParams.get('token');
  expect(token).toEqual(expect.any(String));
  return { url, token: token! };
}

/** Waits for the mails to `to` (matching `subject` when given) and returns them. */
export async function mailsTo(
  smtp: SmtpSink,
  to: string,
  options: { count?: number; subject?: RegExp } = {},
): Promise<ReceivedMail[]> {
  const matching = () =>
    smtp.messages.filter(
      (mail) =>
        mail.to.includes(to.toLowerCase()) &&
        (options.subject === undefined || options.subject.test(mail.subject)),
    );
  return eventually(
    () => matching().length >= (options.count ?? 1) && matching(),
    20_000,
    `mail to ${to}`,
  );
}

export const uniqueEmail = (label: string) => `${label}-${randomUUID()}@example.test`;

export interface WebhookEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** The parsed deliveries of `type` a receiver got (every one of them verified). */
export function eventsOf(
  receiver: Receiver,
  type: string,
): { entry: ReceivedWebhook; event: WebhookEvent }[] {
  return receiver.received
    .map((entry) => ({ entry, event: JSON.parse(entry.body) as WebhookEvent }))
    .filter(({ event }) => event.type === type);
}

/** Waits until the receiver has at least `count` deliveries of `type`. */
export function awaitEvents(receiver: Receiver, type: string, count = 1, timeoutMs = 20_000) {
  return eventually(
    () => eventsOf(receiver, type).length >= count && eventsOf(receiver, type),
    timeoutMs,
    `${count} ${type} webhook(s)`,
  );
}
