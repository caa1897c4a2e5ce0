import { z } from '../lib/zod.js';

/** A Safaricom MSISDN as Daraja wants it: 2547XXXXXXXX or 2541XXXXXXXX (011x numbers). */
export const MSISDN_PATTERN = /^254[17]\d{8}$/;

/**
 * Normalises the ways Kenyans write a mobile number (07…, 01…, +2547…, +2541…, 2547…,
 * 2541…, with spaces or dashes) to 2547XXXXXXXX / 2541XXXXXXXX; anything else is null.
 */
export function normalisePhone(input: string): string | null {
  const compact = input.replace(/[\s-]/g, '');
  if (/^\+?254[17]\d{8}$/.test(compact)) return compact.replace(/^\+/, '');
  if (/^0[17]\d{8}$/.test(compact)) return `254${compact.slice(1)}`;
  return null;
}

/** Request field: any accepted spelling in, the normalised MSISDN out (else 400). */
export const PhoneNumberInput = z
  .string()
  // Room for generous separators ("+254 - 712 - 345 - 678"), still bounded.
  .max(64)
  .transform((value, ctx) => {
    const normalised = normalisePhone(value);
    if (normalised === null) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must be a Safaricom number: 07XXXXXXXX, 01XXXXXXXX, +2547XXXXXXXX, +2541XXXXXXXX, 2547XXXXXXXX or 2541XXXXXXXX',
      });
      return z.NEVER;
    }
    return normalised;
  })
  .openapi({ example: '0712 345 678', description: 'Normalised to 2547XXXXXXXX / 2541XXXXXXXX' });
