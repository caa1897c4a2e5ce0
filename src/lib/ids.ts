import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

// uuid asks the OS for 16 random bytes per id (a getrandom call each) and a sale makes a
// dozen ids, so the bytes come from a buffer refilled 256 ids at a time. Passing our own
// bytes turns off uuid's internal counter, so the RFC 9562 §6.2 method 1 counter is kept
// here: ids made in one millisecond still sort in creation order (the stock ledger relies
// on it: a product's last movement by id carries its current level).
const POOL_IDS = 256;
const pool = Buffer.allocUnsafe(16 * POOL_IDS);
let used = POOL_IDS;
const clock = { msecs: -Infinity, seq: 0 };

function random16(): Buffer {
  if (used === POOL_IDS) {
    randomFillSync(pool);
    used = 0;
  }
  const offset = 16 * used++;
  return pool.subarray(offset, offset + 16);
}

/** Server-made ids are UUIDv7: time-ordered, so btree inserts stay append-mostly. */
export function newId(): string {
  const random = random16();
  const now = Date.now();
  if (now > clock.msecs) {
    clock.msecs = now;
    // A random 31-bit start, as uuid itself seeds its counter each millisecond.
    clock.seq = random.readUInt32BE(6) & 0x7fffffff;
  } else {
    clock.seq = (clock.seq + 1) | 0;
    // The counter ran out within this millisecond: borrow the next one.
    if (clock.seq === 0) clock.msecs++;
  }
  return uuidv7({ random, msecs: clock.msecs, seq: clock.seq });
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
