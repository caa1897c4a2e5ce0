import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { AppError, type ProblemCode } from '../lib/errors.js';
import { toProblem } from './problem.js';

/** Node's own early refusals (before any request reaches the app), as problem codes. */
const CLIENT_ERRORS: Record<string, { code: ProblemCode; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    code: 'HEADERS_TOO_LARGE',
    detail: 'The request line and headers are larger than the server accepts (16 KB)',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    code: 'PAYLOAD_TOO_LARGE',
    detail: 'The chunk extensions are larger than the server accepts',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    code: 'REQUEST_TIMEOUT',
    detail: 'The request was not received in time; send it again',
  },
};
const BAD_FRAMING = {
  code: 'BAD_REQUEST' as const,
  detail: 'The request is not well-formed HTTP/1.1 (request line, headers or body framing)',
};

/**
 * The server's 'clientError' handler: the same answers Node would give (431, 400, 408),
 * but with a problem+json body like every other answer, and only when no response has
 * started on the socket (an error segment in the middle of one would corrupt it).
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // Node's own guard: `_httpMessage` is the in-flight response on this socket, if any.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const { code, detail } = (error.code && CLIENT_ERRORS[error.code]) || BAD_FRAMING;
  const requestId = randomUUID();
  const problem = toProblem(new AppError(code, detail), requestId);
  const body = JSON.stringify(problem.body);
  socket.end(
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\n` +
      'Cache-Control: no-store\r\n' +
      'Connection: close\r\n\r\n' +
      body,
  );
  // Whatever else the client sends is discarded; the socket goes once it has read the answer.
  socket.resume();
  setTimeout(() => socket.destroy(), 5_000).unref();
}
