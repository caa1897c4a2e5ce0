import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Config } from '../config.js';
import type { Logger } from '../lib/logger.js';
import { runClientSpan } from '../observability/trace.js';
import type { RenderedEmail } from './template.js';

export interface OutgoingEmail extends RenderedEmail {
  to: string;
  /** Our id for the message (the outbox message id), sent as a header for tracing. */
  messageId: string;
}

/** The mail edge: swappable in AppDeps. */
export interface Mailer {
  /** Resolves to the provider's message id; rejects with the transport's error. */
  send: (email: OutgoingEmail) => Promise<{ providerMessageId: string }>;
  close: () => void;
}

/** Permanent SMTP refusals (5xx): retrying cannot help. */
export function isPermanentMailError(error: unknown): boolean {
  const code = (error as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/**
 * SMTP from SMTP_URL when set (any environment). Otherwise, outside production, messages
 * are written as .eml files under MAIL_DIR (development) or kept in memory (tests), so a
 * developer can open them; in production without SMTP_URL every send fails loudly.
 */
export function createMailer(config: Config, logger: Logger): Mailer {
  const from = config.mail.from;
  if (config.mail.smtpUrl) {
    const transport = nodemailer.createTransport(config.mail.smtpUrl);
    const server = new URL(config.mail.smtpUrl);
    // A client span for the SMTP exchange (no instrumentation sees nodemailer); never the
    // recipient or the credentials in SMTP_URL.
    const spanAttributes = {
      'network.protocol.name': 'smtp',
      'server.address': server.hostname,
      'server.port': Number(server.port || (server.protocol === 'smtps:' ? 465 : 587)),
    };
    return {
      send: async (email) => {
        const info = await runClientSpan('smtp send', spanAttributes, () =>
          transport.sendMail({ from, ...message(email) }),
        );
        return { providerMessageId: info.messageId };
      },
      close: () => transport.close(),
    };
  }
  if (config.isProduction) {
    return {
      send: () => Promise.reject(new Error('SMTP_URL is not set: no way to send email')),
      close: () => undefined,
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true });
  return {
    send: async (email) => {
      const info = await transport.sendMail({ from, ...message(email) });
      if (!config.isTest) {
        const file = path.resolve(config.mail.dir, `${email.messageId}.eml`);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, info.message as Buffer);
        logger.info({ file, to: email.to, subject: email.subject }, `email written to ${file}`);
      }
      return { providerMessageId: info.messageId };
    },
    close: () => transport.close(),
  };
}

function message(email: OutgoingEmail) {
  return {
    to: email.to,
    subject: email.subject,
    text: email.text,
    html: email.html,
    headers: { 'X-Message-Id': email.messageId },
  };
}
