import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// deploy/nginx/backend-api.conf read the way nginx reads it: every location that proxies to
// the API must end up with HTTP/1.1, keep-alive and the X-Forwarded-* headers the API trusts.
// nginx's inheritance rule is the trap this guards: a level inherits a directive (all of its
// lines, e.g. every proxy_set_header) only when it sets none of that directive itself.

interface Block {
  name: string;
  args: string[];
  directives: { name: string; args: string[] }[];
  children: Block[];
}

function tokenize(source: string): string[] {
  const tokens: string[] = [];
  const pattern = /#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"'#]+)/g;
  for (const match of source.matchAll(pattern)) {
    if (match[0].startsWith('#')) continue;
    tokens.push(match[1] ?? match[2] ?? match[3] ?? match[4] ?? '');
  }
  return tokens;
}

function parse(source: string): Block {
  const root: Block = { name: 'main', args: [], directives: [], children: [] };
  const stack = [root];
  let words: string[] = [];
  for (const token of tokenize(source)) {
    const current = stack.at(-1)!;
    if (token === ';') {
      const [name = '', ...args] = words;
      current.directives.push({ name, args });
      words = [];
    } else if (token === '{') {
      const [name = '', ...args] = words;
      const block: Block = { name, args, directives: [], children: [] };
      current.children.push(block);
      stack.push(block);
      words = [];
    } else if (token === '}') {
      stack.pop();
    } else {
      words.push(token);
    }
  }
  return root;
}

/** The lines of `name` in effect inside `location`, after nginx's inheritance. */
function effective(server: Block, location: Block, name: string): string[][] {
  for (const level of [location, server]) {
    const own = level.directives.filter((directive) => directive.name === name);
    if (own.length > 0) return own.map((directive) => directive.args);
  }
  return [];
}

const config = parse(readFileSync('deploy/nginx/backend-api.conf', 'utf8'));
const tlsServer = config.children.find(
  (block) =>
    block.name === 'server' &&
    block.directives.some((d) => d.name === 'listen' && d.args.includes('ssl')),
)!;
const proxied = tlsServer.children.filter(
  (block) => block.name === 'location' && block.directives.some((d) => d.name === 'proxy_pass'),
);

describe('deploy/nginx/backend-api.conf', () => {
  it('proxies /, /metrics and /admin/ to the API', () => {
    expect(proxied.map((location) => location.args.join(' '))).toEqual([
      '/',
      '= /metrics',
      '/admin/',
    ]);
  });

  it.each(proxied.map((location) => [location.args.join(' '), location] as const))(
    'location %s has HTTP/1.1, keep-alive and the forwarded headers',
    (_, location) => {
      expect(effective(tlsServer, location, 'proxy_http_version')).toEqual([['1.1']]);
      const headers = new Map(
        effective(tlsServer, location, 'proxy_set_header').map(([header, value]) => [
          header?.toLowerCase(),
          value,
        ]),
      );
      // An empty Connection header lets the upstream keepalive pool reuse connections.
      expect(headers.get('connection')).toBe('');
      expect(headers.get('host')).toBe('$host');
      expect(headers.get('x-forwarded-for')).toBe('$remote_addr');
      expect(headers.get('x-forwarded-proto')).toBe('$scheme');
      expect(headers.get('x-request-id')).toBe('$request_id');
      expect(effective(tlsServer, location, 'proxy_read_timeout')).toEqual([['60s']]);
    },
  );

  it('keeps operator locations closed to the internet', () => {
    for (const location of proxied.filter((block) => block.args.join(' ') !== '/')) {
      const rules = location.directives.filter((d) => d.name === 'allow' || d.name === 'deny');
      expect(rules.at(-1)).toEqual({ name: 'deny', args: ['all'] });
    }
  });
});
