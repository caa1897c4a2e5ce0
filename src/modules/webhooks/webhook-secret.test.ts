import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  decryptSecret,
  encryptSecret,
  generateWebhookSecret,
  signWebhook,
} from './webhook-secret.js';

describe('webhook secrets', () => {
  it('signs exactly as the Standard Webhooks reference library verifies', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 3 }), fc.uuid(), (body, id) => {
        const secret = generateWebhookSecret();
        const timestamp = Math.floor(Date.now() / 1000);
        const signature = signWebhook(secret, id, timestamp, body);
        const headers = {
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signature,
        };
        expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
        expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
        expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
      }),
      { numRuns: 50 },
    );
  });

  it('encrypts at rest with AES-256-GCM: round-trips, random nonce, tampering detected', () => {
    const key = randomBytes(32);
    const secret = generateWebhookSecret();
    const first = encryptSecret(secret, key);
    const second = encryptSecret(secret, key);
    expect(first).not.toBe(second);
    expect(decryptSecret(first, key)).toBe(secret);
    expect(() => decryptSecret(first, randomBytes(32))).toThrow();
    const [version, iv, tag, ciphertext] = first.split('.');
    const flipped = Buffer.from(ciphertext!, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    expect(() =>
      decryptSecret([version, iv, tag, flipped.toString('base64')].join('.'), key),
    ).toThrow();
  });
});
