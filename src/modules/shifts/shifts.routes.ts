import { requireAuth } from '../../http/context.js';
import { defineRoute } from '../../http/route.js';
import {
  CashMovement,
  CashMovementBody,
  CloseShiftBody,
  ListShiftsQuery,
  OpenShiftBody,
  Shift,
  ShiftList,
  ShiftParams,
  ShiftReport,
} from './shifts.schemas.js';
import * as shifts from './shifts.service.js';

// Never refused for an expired subscription: a till must be able to close its drawer.
const tags = ['Shifts'];

const open = defineRoute({
  method: 'post',
  path: '/shifts',
  operationId: 'openShift',
  summary: 'Open a shift on a register (the till makes the id; replay-safe)',
  description:
    'The same id and body again answers `200` with the shift as it is now and `Idempotent-Replayed: true`; another body (or another user) is `422 IDEMPOTENCY_KEY_REUSED`. A second open shift on the same register at the same location is `409 CONFLICT` naming `register`.',
  tags,
  access: 'shifts:operate',
  request: { body: OpenShiftBody },
  problems: ['CONFLICT', 'UNPROCESSABLE', 'IDEMPOTENCY_KEY_REUSED'],
  responses: {
    201: {
      description: 'Opened',
      schema: Shift,
      headers: { Location: { description: '/shifts/{id}' } },
    },
    200: {
      description: 'Already opened with this id and body (a replay)',
      schema: Shift,
      headers: { 'Idempotent-Replayed': { description: '`true`' } },
    },
  },
  handler: async (ctx) => {
    const outcome = await shifts.openShift(ctx.deps, requireAuth(ctx), ctx.input.body);
    if (outcome.status === 'created') {
      ctx.status = 201;
      ctx.set('Location', `/shifts/${outcome.value.id}`);
    } else {
      ctx.set('Idempotent-Replayed', 'true');
    }
    ctx.body = outcome.value;
  },
});

const cashMovement = defineRoute({
  method: 'post',
  path: '/shifts/{id}/cash-movements',
  operationId: 'recordShiftCashMovement',
  summary: 'Put cash into (pay_in) or take it out of (pay_out) the drawer',
  description:
    'Idempotent by `clientRequestId`: the same body again answers `200` (`Idempotent-Replayed: true`), another body `422 IDEMPOTENCY_KEY_REUSED`. A closed shift takes none (`422`). Cashiers act on their own shifts only (another cashier’s is `404`).',
  tags,
  access: 'shifts:operate',
  request: { params: ShiftParams, body: CashMovementBody },
  problems: ['UNPROCESSABLE', 'IDEMPOTENCY_KEY_REUSED'],
  responses: {
    201: { description: 'Recorded', schema: CashMovement },
    200: {
      description: 'Already recorded with this clientRequestId and body (a replay)',
      schema: CashMovement,
      headers: { 'Idempotent-Replayed': { description: '`true`' } },
    },
  },
  handler: async (ctx) => {
    const outcome = await shifts.recordCashMovement(
      ctx.deps,
      requireAuth(ctx),
      ctx.input.params.id,
      ctx.input.body,
    );
    if (outcome.status === 'created') ctx.status = 201;
    else ctx.set('Idempotent-Replayed', 'true');
    ctx.body = outcome.value;
  },
});

const close = defineRoute({
  method: 'post',
  path: '/shifts/{id}/close',
  operationId: 'closeShift',
  summary: 'Close a shift: the expected cash is computed and frozen, the difference recorded',
  description:
    'The same close again answers the same shift; another body for a closed shift is `422`. Of concurrent closes exactly one wins. Cashiers close their own shifts (another cashier’s is `404`); managers and owners may close any.',
  tags,
  access: 'shifts:operate',
  request: { params: ShiftParams, body: CloseShiftBody },
  problems: ['UNPROCESSABLE'],
  responses: { 200: { description: 'The closed shift', schema: Shift } },
  handler: async (ctx) => {
    ctx.body = await shifts.closeShift(
      ctx.deps,
      requireAuth(ctx),
      ctx.input.params.id,
      ctx.input.body,
    );
  },
});

const list = defineRoute({
  method: 'get',
  path: '/shifts',
  operationId: 'listShifts',
  summary: 'Shifts, newest first by (openedAt, id); cashiers see only their own',
  description: '`from`/`to` are inclusive days in the business timezone, applied to `openedAt`.',
  tags,
  access: 'shifts:operate',
  request: { query: ListShiftsQuery },
  problems: ['NOT_FOUND'],
  responses: { 200: { description: 'A page of shifts', schema: ShiftList } },
  handler: async (ctx) => {
    ctx.body = await shifts.listShifts(ctx.deps, requireAuth(ctx), ctx.input.query);
  },
});

const get = defineRoute({
  method: 'get',
  path: '/shifts/{id}',
  operationId: 'getShift',
  summary: 'One shift (another cashier’s is 404 for a cashier)',
  tags,
  access: 'shifts:operate',
  request: { params: ShiftParams },
  responses: { 200: { description: 'The shift', schema: Shift } },
  handler: async (ctx) => {
    ctx.body = await shifts.getShift(ctx.deps, requireAuth(ctx), ctx.input.params.id);
  },
});

const report = defineRoute({
  method: 'get',
  path: '/shifts/{id}/report',
  operationId: 'getShiftReport',
  summary: 'The X report (open shift, live) or Z report (closed shift, as at the close)',
  tags,
  access: 'shifts:operate',
  request: { params: ShiftParams },
  responses: { 200: { description: 'The report', schema: ShiftReport } },
  handler: async (ctx) => {
    ctx.body = await shifts.shiftReport(ctx.deps, requireAuth(ctx), ctx.input.params.id);
  },
});

export const shiftRoutes = [open, cashMovement, close, list, get, report];
