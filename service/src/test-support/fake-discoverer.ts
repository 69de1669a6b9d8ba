import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  receivedAt: number;
}

export interface FakeDiscoverer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Status for the n-th request (0-based); default 200. */
  respondWith(status: (index: number, request: RecordedRequest) => number): void;
  stop(): Promise<void>;
}

/**
 * A real HTTP server on a free loopback port standing in for the discoverer (another workspace):
 * it records every request and answers with a configurable status.
 */
export async function startFakeDiscoverer(): Promise<FakeDiscoverer> {
  const requests: RecordedRequest[] = [];
  let statusFor: (index: number, request: RecordedRequest) => number = () => 200;

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    let body: unknown = raw;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      // Recorded as text: the assertion will show what arrived.
    }
    const request: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body,
      receivedAt: Date.now(),
    };
    const index = requests.push(request) - 1;
    const status = statusFor(index, request);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(
      status < 300
        ? JSON.stringify({ status: 'ok' })
        : JSON.stringify({ error: { code: status, message: 'refused' } }),
    );
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(next) {
      statusFor = next;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
