import { createHmac } from 'node:crypto';

// How KRA makes `rcptSign` and `intrlData` is not public. The simulator answers opaque values
// of the sample's lengths (16 and 26 characters, base32 upper case), the same for the same
// input, so tests can compare them and a receipt prints something of the right shape.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Buffer, length: number): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET.charAt((value >>> (bits - 5)) & 31);
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

const digest = (secret: string, label: string, parts: (string | number)[]) =>
  createHmac('sha256', secret)
    .update(`${label}\n${parts.join('\n')}`)
    .digest();

export function receiptSignature(secret: string, parts: (string | number)[]): string {
  return base32(digest(secret, 'rcptSign', parts), 16);
}

export function internalData(secret: string, parts: (string | number)[]): string {
  return base32(digest(secret, 'intrlData', parts), 26);
}

/** A communication key of the sample's shape (32 hex characters). */
export function communicationKey(secret: string, parts: (string | number)[]): string {
  return digest(secret, 'cmcKey', parts).toString('hex').slice(0, 32);
}

/** yyyyMMddhhmmss in East Africa Time, as KRA's `resultDt` and `sdcDateTime`. */
export function kraDateTime(at: Date): string {
  const eat = new Date(at.getTime() + 3 * 3_600_000);
  return eat.toISOString().replace(/[-T:]/g, '').slice(0, 14);
}
