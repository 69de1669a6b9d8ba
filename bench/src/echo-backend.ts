import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface EchoBackendOptions {
  /** 0 (default) asks the kernel for a free port. */
  port?: number;
  host?: string;
  /** Sent back in the `echo-instance` response header, so several backends can be told apart. */
  instanceId?: string;
  /**
   * Receive window (per stream and per connection) in bytes; node's default (65,535) when unset.
   * Keep it small: a node:http2 session stops reading its socket while one of its writes is in
   * progress (node_http2.cc, MaybeStopReading), so two node peers that both grant windows larger
   * than the kernel's socket buffers can each block writing and never read again (a mutual
   * deadlock seen here with 8 MiB windows against the node:http2 gateway's 32 MiB ones, before the
   * gateway had its own HTTP/2 layer). The naive proxy is still node:http2 on both sides.
   */
  windowBytes?: number;
}

export interface EchoBackend {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A gRPC echo server for any path: response headers at once, every request DATA chunk written back
 * as it arrives (so the gRPC framing of the request is the framing of the response), then trailers
 * `grpc-status: 0` when the client half-closes. No decoding, no pipe() machinery.
 */
export async function startEchoBackend(options: EchoBackendOptions = {}): Promise<EchoBackend> {
  const windowBytes = options.windowBytes;
  const server = http2.createServer({
    // node's 10 MB default is below 256 concurrent 64 KiB echoes in flight; the calls would be
    // reset with ENHANCE_YOUR_CALM.
    maxSessionMemory: 256,
    settings: {
      maxConcurrentStreams: 100_000,
      ...(windowBytes === undefined ? {} : { initialWindowSize: windowBytes }),
    },
  });
  const instanceId = options.instanceId;
  const open = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    open.add(session);
    session.once('close', () => open.delete(session));
    session.on('error', () => {});
    if (windowBytes !== undefined) session.once('connect', () => session.setLocalWindowSize(windowBytes));
  });
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    const headers: http2.OutgoingHttpHeaders = { ':status': 200, 'content-type': 'application/grpc' };
    if (instanceId !== undefined) headers['echo-instance'] = instanceId;
    stream.respond(headers, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.on('data', (chunk: Buffer) => {
      if (!stream.write(chunk)) stream.pause();
    });
    stream.on('drain', () => stream.resume());
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
