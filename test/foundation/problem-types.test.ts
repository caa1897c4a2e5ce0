import { describe, expect, it } from 'vitest';
import { PROBLEM_CODE_LIST, PROBLEM_CODES } from '../../src/lib/errors.js';
import { createTestApp } from '../helpers/app.js';
import { expectProblem } from '../helpers/problem.js';

const { http } = createTestApp();

describe('problem type URIs resolve (GET /errors/<slug>)', () => {
  it('every problem code’s type describes it, as JSON by default', async () => {
    const notFound = await http.get('/no-such-route');
    expect(notFound.body.type).toBe('/errors/not-found');
    for (const code of PROBLEM_CODE_LIST) {
      const type = `/errors/${code.toLowerCase().replace(/_/g, '-')}`;
      const response = await http.get(type);
      expect(response.status, type).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body).toMatchObject({ type, code, status: PROBLEM_CODES[code].status });
      expect(response.body.description.length).toBeGreaterThan(20);
    }
  });

  it('a browser following the link gets an HTML page', async () => {
    const page = await http
      .get('/errors/payload-too-large')
      .set('Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers.vary).toMatch(/Accept/);
    expect(page.text).toContain('<code>PAYLOAD_TOO_LARGE</code>');
    expect(page.text).toContain('HTTP 413');
  });

  it('an unknown slug is a 404 problem', async () => {
    expectProblem(await http.get('/errors/no-such-problem'), 404, 'NOT_FOUND');
    expectProblem(await http.get('/errors/NOT_FOUND'), 400, 'VALIDATION_FAILED');
  });
});

describe('/docs "Try it out" works from any host', () => {
  it('the served document names a relative server, which resolves to the host that served it and is allowed by the page’s CSP', async () => {
    for (const host of ['127.0.0.1:3999', 'pos.example.co.ke', '192.168.1.20:8080']) {
      const document = await http.get('/openapi.json').set('Host', host);
      const [server] = document.body.servers as { url: string }[];
      const pageUrl = `http://${host}/docs`;
      const target = new URL(server!.url, new URL('/openapi.json', pageUrl));
      expect(target.origin).toBe(new URL(pageUrl).origin);

      const page = await http.get('/docs').set('Host', host);
      const csp = String(page.headers['content-security-policy']);
      const directive = (name: string) =>
        csp
          .split(';')
          .map((part) => part.trim())
          .find((part) => part.startsWith(`${name} `));
      // fetch() from the page is governed by connect-src, else default-src: 'self' covers the target.
      expect(directive('connect-src') ?? directive('default-src')).toMatch(/'self'/);
    }
  });
});
