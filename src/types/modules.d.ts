// Local declarations for packages without maintained types (the DefinitelyTyped ones are
// stale: @types/koa-ratelimit pins ioredis 4, @types/koa-pino-logger pulls @types/pino 6).

declare module 'koa-ratelimit' {
  import type { Context, Middleware } from 'koa';

  interface MiddlewareOptions {
    driver: 'redis' | 'memory';
    db: unknown;
    duration?: number;
    max?: number;
    namespace?: string;
    id?: (ctx: Context) => string | false;
    whitelist?: (ctx: Context) => boolean | Promise<boolean>;
    throw?: boolean;
    errorMessage?: string;
    disableHeader?: boolean;
  }

  function ratelimit(options: MiddlewareOptions): Middleware;
  export default ratelimit;
}

declare module 'koa-pino-logger' {
  import type { Middleware } from 'koa';
  import type { Logger } from 'pino';
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface Options {
    logger?: Logger;
    genReqId?: (req: IncomingMessage, res: ServerResponse) => string;
    customProps?: (req: IncomingMessage, res: ServerResponse) => Record<string, unknown>;
    customLogLevel?: (req: IncomingMessage, res: ServerResponse, error?: Error) => string;
    autoLogging?: boolean | { ignore?: (req: IncomingMessage) => boolean };
    serializers?: Record<string, (value: unknown) => unknown>;
    quietReqLogger?: boolean;
  }

  function koaPinoLogger(options?: Options): Middleware;
  export default koaPinoLogger;
}
