import net from 'node:net';

export interface CutProxy {
  port: number;
  base: string;
  /** The first line of every request seen (e.g. `POST /sales/sync HTTP/1.1`), in order. */
  requests: string[];
  /**
   * Cut the next `count` requests whose first line matches: the whole request reaches the
   * server, then both sockets are destroyed before any answer reaches the client.
   */
  cutNext(pattern: RegExp, count?: number): void;
  /** How many requests were cut so far. */
  cuts: () => number;
  /** Refuse (reset) every new connection while true: the server is "unreachable". */
  setDown(down: boolean): void;
  /** Send new connections to another port (the API restarted elsewhere). */
  setTarget(port: number): void;
  /** Called with each request's first line as it arrives (before the server answers). */
  onRequest: ((firstLine: string) => void) | undefined;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of the API for the network faults a till meets: a connection dropped
 * after the request was sent (the server did the work, the client never heard), or no route at
 * all. It reads each request's head and Content-Length to know when a request is complete.
 */
export async function startCutProxy(targetPort: number): Promise<CutProxy> {
  const requests: string[] = [];
  const rules: { pattern: RegExp; left: number }[] = [];
  const sockets = new Set<net.Socket>();
  let cuts = 0;
  let down = false;
  let target = targetPort;

  const server = net.createServer((client) => {
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    // Cutting: the client's socket is gone, the server's stays until it has answered (into
    // the void), so the server really did the work.
    let cutting = false;
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    const cut = () => {
      cutting = true;
      cuts += 1;
      client.destroy();
      sockets.delete(client);
      setTimeout(closeBoth, 30_000).unref();
    };
    client.on('error', () => (cutting ? undefined : closeBoth()));
    client.on('close', () => (cutting ? undefined : closeBoth()));
    upstream.on('error', closeBoth);
    upstream.on('close', closeBoth);

    // Parse requests as they stream through (keep-alive: several per connection).
    let buffer = Buffer.alloc(0);
    let bodyLeft = 0;
    let cutThis = false;
    client.on('data', (chunk: Buffer) => {
      if (cutting) return;
      upstream.write(chunk);
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (bodyLeft > 0) {
          const take = Math.min(bodyLeft, buffer.length);
          bodyLeft -= take;
          buffer = buffer.subarray(take);
          if (bodyLeft > 0) return;
          if (cutThis) {
            cut();
            return;
          }
          continue;
        }
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString('latin1');
        buffer = buffer.subarray(end + 4);
        const firstLine = head.split('\r\n')[0] ?? '';
        requests.push(firstLine);
        proxy.onRequest?.(firstLine);
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        bodyLeft = length ? Number(length[1]) : 0;
        const rule = rules.find(
          (candidate) => candidate.left > 0 && candidate.pattern.test(firstLine),
        );
        cutThis = false;
        if (rule) {
          rule.left -= 1;
          cutThis = true;
          if (bodyLeft === 0) {
            cut();
            return;
          }
        }
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutting) closeBoth();
      else client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxy: CutProxy = {
    onRequest: undefined,
    setTarget: (port) => {
      target = port;
    },
    port,
    base: `http://127.0.0.1:${port}`,
    requests,
    cutNext: (pattern, count = 1) => void rules.push({ pattern, left: count }),
    cuts: () => cuts,
    setDown(value) {
      down = value;
      if (down) for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
