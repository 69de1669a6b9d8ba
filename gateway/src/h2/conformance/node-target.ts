/**
 * The reference target: a plain `node:http2` h2c server (prior knowledge) that answers every request,
 * once it has read the whole request body, with `:status 200`, `content-type: text/plain` and a
 * 10 KiB body (none for HEAD), so the flow-control cases have DATA to watch.
 */
import { createServer, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';

const RESPONSE_BODY_BYTES = 10 * 1024;
export const RESPONSE_BODY = Buffer.alloc(RESPONSE_BODY_BYTES, 'h2 conformance body\n');

export interface RunningTarget {
  readonly host: string;
  readonly port: number;
  /** Requests the server has answered so far. */
  readonly answered: () => number;
  close(): Promise<void>;
}

function ignore(): void {}

function answer(stream: ServerHttp2Stream, method: string, onAnswered: () => void): void {
  stream.on('error', ignore);
  stream.resume();
  stream.once('end', () => {
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    try {
      if (method === 'HEAD') {
        stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { endStream: true });
      } else {
        stream.respond({ ':status': 200, 'content-type': 'text/plain' });
        stream.end(RESPONSE_BODY);
      }
      onAnswered();
    } catch {
      // The stream was reset between 'end' and here.
    }
  });
}

/** Starts the node:http2 target on 127.0.0.1 and a free port. */
export async function startNodeTarget(): Promise<RunningTarget> {
  const server = createServer();
  const sessions = new Set<Http2Session>();
  let answered = 0;
  server.on('session', (session) => {
    sessions.add(session);
    session.on('error', ignore);
    session.once('close', () => sessions.delete(session));
  });
  server.on('sessionError', ignore);
  server.on('stream', (stream, headers) => {
    answer(stream, String(headers[':method'] ?? ''), () => answered++);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    answered: () => answered,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}
