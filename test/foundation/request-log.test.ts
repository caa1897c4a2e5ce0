import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { createTestApp } from '../helpers/app.js';

// The "request completed" line koa-pino-logger writes for every request: compact, without
// the response's own headers (they were ~1.5 KB of every development line).

function capturingApp(nodeEnv: 'development' | 'test') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ logLevel: 'info', env: 'test' }, {}, sink);
  const { http } = createTestApp({ env: { NODE_ENV: nodeEnv }, logger });
  const completed = () => {
    logger.flush();
    return lines.filter((line) => line.includes('request completed'));
  };
  return { http, completed };
}

describe('request log lines', () => {
  it('in development are one short line: method, URL, status, time', async () => {
    const { http, completed } = capturingApp('development');
    const response = await http.get('/products?limit=5').set('User-Agent', 'till/1.0');
    expect(response.status).toBe(401);
    expect(response.headers['content-security-policy']).toBeDefined();
    const [line] = completed();
    const entry = JSON.parse(line!) as Record<string, unknown>;
    expect(entry.req).toEqual({ method: 'GET', url: '/products?limit=5' });
    expect(entry.res).toEqual({ statusCode: 401 });
    expect(entry.responseTime).toEqual(expect.any(Number));
    expect(entry.requestId).toBe(response.headers['x-request-id']);
    expect(line!.length).toBeLessThan(400);
  });

  it('elsewhere keep the request headers but never the response headers', async () => {
    const { http, completed } = capturingApp('test');
    await http.get('/products').set('User-Agent', 'till/1.0').set('Authorization', 'Bearer x');
    const [line] = completed();
    const entry = JSON.parse(line!) as { req: { headers: Record<string, string> }; res: unknown };
    expect(entry.req.headers['user-agent']).toBe('till/1.0');
    expect(entry.req.headers.authorization).toBe('[redacted]');
    expect(entry.res).toEqual({ statusCode: 401 });
    expect(line).not.toContain('content-security-policy');
  });
});
