import type { ShiftCashMovementRow, ShiftRow } from '../../db/schema/index.js';
import { cashDifference } from './shifts.rules.js';
import type { CashMovement, Shift } from './shifts.schemas.js';

/** The Shift resource from its row: the one presenter of reads and writes. */
export function toShift(row: ShiftRow): Shift {
  return {
    id: row.id,
    register: row.register,
    locationId: row.locationId,
    cashierId: row.cashierId,
    status: row.status,
    openedAt: row.openedAt.toISOString(),
    openingFloat: row.openingFloat,
    receivedAt: row.createdAt.toISOString(),
    closedAt: row.closedAt?.toISOString() ?? null,
    closeReceivedAt: row.closeReceivedAt?.toISOString() ?? null,
    closedBy: row.closedBy,
    expectedCash: row.expectedCash,
    countedCash: row.countedCash,
    difference:
      row.countedCash === null || row.expectedCash === null
        ? null
        : cashDifference(row.countedCash, row.expectedCash),
    note: row.closeNote,
  };
}

export function toCashMovement(row: ShiftCashMovementRow): CashMovement {
  return {
    id: row.id,
    shiftId: row.shiftId,
    clientRequestId: row.clientRequestId,
    type: row.type,
    amount: row.amount,
    note: row.note,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}
