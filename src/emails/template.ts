import type { z } from '../lib/zod.js';

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/** An email template: its payload schema (the outbox contract) and how it renders. */
export interface EmailTemplate<S extends z.ZodType = z.ZodType> {
  name: string;
  schema: S;
  render: (data: z.output<S>) => RenderedEmail;
}

export function defineTemplate<S extends z.ZodType>(template: EmailTemplate<S>): EmailTemplate {
  return template;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);

/** Tagged template that HTML-escapes every interpolated value (use `raw()` to opt out). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): RawHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += renderValue(value) + (strings[index + 1] ?? '');
  });
  return new RawHtml(out);
}

export class RawHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

function renderValue(value: unknown): string {
  if (value instanceof RawHtml) return value.value;
  if (Array.isArray(value)) return value.map(renderValue).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

/** The shared HTML frame: inline styles only (mail clients drop <style> and scripts). */
export function layout(title: string, body: RawHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>${title}</title>
      </head>
      <body
        style="font-family:Arial,Helvetica,sans-serif;color:#1f2933;background:#f5f7fa;margin:0;padding:24px"
      >
        <div
          style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:24px"
        >
          ${body}
        </div>
      </body>
    </html>`.value;
}

/** A link as a button, with the URL also written out for clients that hide buttons. */
export const button = (href: string, label: string): RawHtml =>
  html`<p>
      <a
        href="${href}"
        style="display:inline-block;background:#0b6e4f;color:#ffffff;padding:10px 18px;border-radius:6px;text-decoration:none"
        >${label}</a
      >
    </p>
    <p style="font-size:12px;color:#616e7c">Or paste this link into your browser: ${href}</p>`;

/** Cents → "KES 1,234.50". */
export function formatMoney(cents: number, currency = 'KES'): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100).toLocaleString('en-US');
  return `${sign}${currency} ${whole}.${String(abs % 100).padStart(2, '0')}`;
}

/** ISO timestamp → "22 Nov 2026, 08:30 EAT" (Kenya time; the shops are there). */
export function formatDate(iso: string): string {
  return `${new Intl.DateTimeFormat('en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'Africa/Nairobi',
  }).format(new Date(iso))} EAT`;
}

/**
 * A link's `token` on a line of its own, for the text part. The link line itself may run
 * past 76 characters, and quoted-printable then breaks it with a soft line break (and
 * writes its `=` as `=3D`): a mail client joins it again, but a person copying the link from
 * a plain view or the raw message gets a broken token. A 43-character token alone on its
 * line is never wrapped, and the page the link opens also takes the code typed in.
 */
export function tokenFallback(link: string, what: string): string[] {
  const url = new URL(link);
  const token = url.searchParams.get('token');
  if (!token) return [];
  return [
    '',
    `If the link does not open, go to ${url.origin}${url.pathname} and enter this ${what} code:`,
    token,
  ];
}
