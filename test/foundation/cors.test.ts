import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';

const { http } = createTestApp({
  env: { CORS_ORIGINS: 'https://pos.example.co.ke, https://admin.example.co.ke' },
});

describe('CORS allowlist', () => {
  it('answers a preflight from an allowed origin with the headers the POS needs', async () => {
    const response = await http
      .options('/health')
      .set('Origin', 'https://pos.example.co.ke')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,idempotency-key,content-type');
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('https://pos.example.co.ke');
    expect(response.headers['access-control-allow-headers']).toMatch(/Idempotency-Key/);
  });

  it('exposes the request id and replay headers to the browser', async () => {
    const response = await http.get('/health').set('Origin', 'https://admin.example.co.ke');
    expect(response.headers['access-control-allow-origin']).toBe('https://admin.example.co.ke');
    expect(response.headers['access-control-expose-headers']).toMatch(/X-Request-Id/);
    expect(response.headers['access-control-expose-headers']).toMatch(/Idempotent-Replayed/);
  });

  it('ignores other origins', async () => {
    const response = await http.get('/health').set('Origin', 'https://pos.example.co.ke.evil.com');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});
