import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface EchoBackendOptions {
  /** 0 (default) asks the kernel for a free port. */
  port?: number;
  host?: string;
  /** Sent back in the `echo-instance` response header, so several backends can be told apart. */
  instanceId?: string;
}

export interface EchoBackend {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Large windows so that flow control never throttles the backend: it is the limit the proxies are
 * compared with, so it must not become the bottleneck itself (64 KiB messages exceed the default
 * 65,535-byte stream window).
 */
const WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * A gRPC echo server for any path: response headers at once, every request DATA chunk written back
 * as it arrives (so the gRPC framing of the request is the framing of the response), then trailers
 * `grpc-status: 0` when the client half-closes. No decoding, no pipe() machinery.
 */
export async function startEchoBackend(options: EchoBackendOptions = {}): Promise<EchoBackend> {
  const server = http2.createServer({
    settings: { initialWindowSize: WINDOW_BYTES, maxConcurrentStreams: 100_000 },
  });
  const instanceId = options.instanceId;
  const open = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    open.add(session);
    session.once('close', () => open.delete(session));
    session.on('error', () => {});
    session.once('connect', () => session.setLocalWindowSize(WINDOW_BYTES));
  });
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    const headers: http2.OutgoingHttpHeaders = { ':status': 200, 'content-type': 'application/grpc' };
    if (instanceId !== undefined) headers['echo-instance'] = instanceId;
    stream.respond(headers, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.on('data', (chunk: Buffer) => {
      stream.write(chunk);
    });
    stream.on('end', () => {
      stream.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // close() waits for sessions; idle client sessions would keep it open forever.
        for (const session of open) session.destroy();
      }),
  };
}
