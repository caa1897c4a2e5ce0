import { timingSafeEqual } from 'node:crypto';
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
  // Loaded on the first authorised request: bull-board costs ~28 MB an API rarely needs.
  let board: Promise<Koa.Middleware> | undefined;
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
    board ??= loadBoard(deps);
    await (
      await board
    )(ctx, next);
  };
}

async function loadBoard(deps: AppDeps): Promise<Koa.Middleware> {
  const [{ createBullBoard }, { BullMQAdapter }, { KoaAdapter }] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/koa'),
  ]);
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: inspectQueues(deps).map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
  });
  return serverAdapter.registerPlugin();
}
