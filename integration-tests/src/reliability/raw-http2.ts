import {
  type ClientHttp2Session,
  connect,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { connect as netConnect } from 'node:net';
import { http2Exchange } from '@stickygw/testkit';

/** How one raw HTTP/2 request ended, as the wire showed it. */
export interface RawAnswer {
  /** Response headers (for a trailers-only answer they hold `grpc-status` too). */
  readonly headers: IncomingHttpHeaders | undefined;
  readonly trailers: IncomingHttpHeaders | undefined;
  readonly body: Buffer;
  /** RST_STREAM code (0 when the stream ended normally). */
  readonly rstCode: number;
  /** GOAWAY code, when the server sent one on this connection. */
  readonly goawayCode: number | undefined;
}

/** `grpc-status` and the decoded `grpc-message` of an answer, from trailers or a trailers-only answer. */
export function grpcStatusOf(answer: RawAnswer): { code: number; message: string } | undefined {
  const source = answer.trailers?.['grpc-status'] !== undefined ? answer.trailers : answer.headers;
  const code = source?.['grpc-status'];
  if (code === undefined) return undefined;
  return { code: Number(code), message: decodeURIComponent(String(source?.['grpc-message'] ?? '')) };
}

/** The length-prefixed gRPC frame of `message` (PROTOCOL-HTTP2.md), with an optional compressed flag. */
export function grpcFrame(message: Buffer, flag = 0): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(flag, 0);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

export function openRawSession(address: string): ClientHttp2Session {
  // Large send limits: the hostile cases send what a well-behaved client library would refuse to.
  const session = connect(`http://${address}`, {
    maxSendHeaderBlockLength: 16 * 1024 * 1024,
    maxHeaderListPairs: 100_000,
  } as Parameters<typeof connect>[1]);
  session.on('error', () => {});
  return session;
}

/**
 * Sends one request on a fresh connection: `headers`, then `body` (if any) and END_STREAM, and
 * collects what comes back until the stream closes or `timeoutMs` passes (which rejects).
 */
export function rawRequest(
  address: string,
  headers: OutgoingHttpHeaders,
  body?: Buffer,
  timeoutMs = 5_000,
): Promise<RawAnswer> {
  const session = openRawSession(address);
  let goawayCode: number | undefined;
  session.on('goaway', (code) => {
    goawayCode = code;
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const answered = http2Exchange(session, headers, body).then(({ headers, trailers, body, rstCode }) => {
    session.close();
    return { headers, trailers, body, rstCode, goawayCode };
  });
  return Promise.race([answered, timedOut]).finally(() => clearTimeout(timer));
}

/**
 * Opens a TCP connection, writes `bytes` (if any) and resolves with everything received and how long
 * the server kept the connection open (`closedAfterMs`), or after `timeoutMs` with `closedAfterMs`
 * undefined (the server still held it). `refused`: nothing listens there.
 */
export function rawTcp(
  address: string,
  bytes: Buffer | string | undefined,
  timeoutMs: number,
): Promise<{ received: Buffer; closedAfterMs: number | undefined; refused: boolean }> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = netConnect(Number(port), host);
    const chunks: Buffer[] = [];
    let settled = false;
    let refused = false;
    const finish = (closedAfterMs: number | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closedAfterMs, refused });
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on('connect', () => {
      if (bytes !== undefined) socket.write(bytes);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => finish(performance.now() - started));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      refused = error.code === 'ECONNREFUSED';
    });
  });
}
