import { timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type Koa from 'koa';
import type { AppDeps } from '../deps.js';
import { AppError } from '../lib/errors.js';
import { inspectQueues } from './queues.js';

export const DASHBOARD_PATH = '/admin/queues';

/**
 * The BullMQ dashboard at /admin/queues behind HTTP basic auth (BULL_BOARD_USER /
 * BULL_BOARD_PASSWORD). Without credentials configured nothing is mounted: the path is 404.
 */
export function queueDashboard(deps: AppDeps): Koa.Middleware | undefined {
  const credentials = deps.config.bullBoard;
  if (!credentials) return undefined;
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: inspectQueues(deps).map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
  });
  const board = serverAdapter.registerPlugin();
  const expected = Buffer.from(`${credentials.user}:${credentials.password}`);

  return async (ctx, next) => {
    if (ctx.path !== DASHBOARD_PATH && !ctx.path.startsWith(`${DASHBOARD_PATH}/`)) {
      await next();
      return;
    }
    const header = ctx.get('authorization');
    const given = Buffer.from(
      header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '',
    );
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AppError(
        'UNAUTHENTICATED',
        'The queue dashboard needs its basic-auth credentials',
        {
          headers: { 'WWW-Authenticate': 'Basic realm="queues", charset="UTF-8"' },
        },
      );
    }
    await board(ctx, next);
  };
}
