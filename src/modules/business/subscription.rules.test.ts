import { describe, expect, it } from 'vitest';
import { extendPeriod, subscriptionStatus, trialEnd } from './subscription.rules.js';

const DAY = 86_400_000;
const now = new Date('2026-11-22T12:00:00Z');

describe('subscriptionStatus', () => {
  it('is trialing or active until the period end, past_due for 3 days, then expired', () => {
    const end = new Date(now.getTime() + DAY);
    expect(subscriptionStatus(null, end, now)).toBe('trialing');
    expect(subscriptionStatus('monthly', end, now)).toBe('active');
    expect(subscriptionStatus('monthly', new Date(now.getTime() - DAY), now)).toBe('past_due');
    expect(subscriptionStatus(null, new Date(now.getTime() - 3 * DAY), now)).toBe('past_due');
    expect(subscriptionStatus('annual', new Date(now.getTime() - 3 * DAY - 1), now)).toBe(
      'expired',
    );
  });
});

describe('periods', () => {
  it('gives a 14-day trial', () => {
    expect(trialEnd(now).getTime() - now.getTime()).toBe(14 * DAY);
  });

  it('extends from the later of now and the current end', () => {
    expect(extendPeriod(new Date(now.getTime() + 5 * DAY), 'monthly', now).getTime()).toBe(
      now.getTime() + 35 * DAY,
    );
    expect(extendPeriod(new Date(now.getTime() - 5 * DAY), 'annual', now).getTime()).toBe(
      now.getTime() + 365 * DAY,
    );
  });
});
