import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROLES } from '../../db/schema/index.js';
import { roleHas } from '../auth/permissions.js';
import { WEBHOOK_EVENTS } from '../webhooks/webhook-events.js';
import { accessFor, mayReceive, parseEventId } from './realtime.rules.js';

const id = fc.uuid();
const eventType = fc.oneof(
  fc.constantFrom(...WEBHOOK_EVENTS),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('shift.opened', 'return.created', 'stock.adjusted', 'customer.created'),
);

describe('mayReceive', () => {
  it('never lets a viewer see another business’s event, whatever the role or type', () => {
    fc.assert(
      fc.property(
        id,
        id,
        id,
        fc.constantFrom(...ROLES),
        eventType,
        (viewerBiz, eventBiz, user, role, type) => {
          fc.pre(viewerBiz !== eventBiz);
          expect(
            mayReceive(
              { userId: user, businessId: viewerBiz, role },
              {
                businessId: eventBiz,
                type,
                ownerId: user,
              },
            ),
          ).toBe(false);
        },
      ),
    );
  });

  it('lets the owner see every event of the business', () => {
    fc.assert(
      fc.property(id, id, eventType, fc.option(id), (biz, user, type, ownerId) => {
        expect(
          mayReceive(
            { userId: user, businessId: biz, role: 'owner' },
            { businessId: biz, type, ownerId },
          ),
        ).toBe(true);
      }),
    );
  });

  it('is monotone in the permission table: whoever holds the `all` permission sees the event, and nobody else sees another user’s', () => {
    fc.assert(
      fc.property(
        id,
        id,
        id,
        fc.constantFrom(...ROLES),
        eventType,
        (biz, user, other, role, type) => {
          fc.pre(user !== other);
          const seen = mayReceive(
            { userId: user, businessId: biz, role },
            {
              businessId: biz,
              type,
              ownerId: other,
            },
          );
          expect(seen).toBe(roleHas(role, accessFor(type).all));
        },
      ),
    );
  });

  it('shows a cashier catalog and stock, and only their own sales and payments', () => {
    const biz = '0193a000-0000-7000-8000-000000000001';
    const me = '0193a000-0000-7000-8000-000000000002';
    const colleague = '0193a000-0000-7000-8000-000000000003';
    const sees = (type: string, ownerId: string | null) =>
      mayReceive(
        { userId: me, businessId: biz, role: 'cashier' },
        { businessId: biz, type, ownerId },
      );
    expect(sees('product.updated', null)).toBe(true);
    expect(sees('inventory.low_stock', null)).toBe(true);
    expect(sees('sale.created', me)).toBe(true);
    expect(sees('sale.created', colleague)).toBe(false);
    expect(sees('sale.created', null)).toBe(false);
    expect(sees('payment.succeeded', me)).toBe(true);
    expect(sees('payment.succeeded', colleague)).toBe(false);
    expect(sees('subscription.activated', null)).toBe(false);
    expect(sees('webhook.test', null)).toBe(false);
    expect(sees('something.new', me)).toBe(false);
  });
});

describe('parseEventId', () => {
  it('reads decimal ids and refuses anything else', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(parseEventId(String(n))).toBe(n);
      }),
    );
    for (const bad of ['', '-1', '01', '1.5', '1e3', ' 1', '99999999999999999']) {
      expect(parseEventId(bad)).toBeUndefined();
    }
  });
});
