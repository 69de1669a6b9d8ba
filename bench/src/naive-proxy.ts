import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface NaiveProxyOptions {
  /** `host:port` of the one upstream. */
  readonly upstream: string;
  readonly port?: number;
  readonly host?: string;
}

export interface NaiveProxy {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * node's default cap on buffered session data (10 MB) is below 32 streams × 8 connections of
 * 64 KiB requests: the proxy would reset calls with ENHANCE_YOUR_CALM. A setting, not a feature;
 * the gateway sets the same.
 */
const SESSION_MEMORY_MB = 256;

/**
 * The floor: what node:http2 gives for free. One upstream session, every stream piped both ways,
 * upstream trailers copied; no routing, auth, retries, limits or status mapping. A broken upstream
 * stream resets the downstream one.
 */
export async function startNaiveProxy(options: NaiveProxyOptions): Promise<NaiveProxy> {
  let upstream: http2.ClientHttp2Session | undefined;
  const upstreamSession = () => {
    if (upstream === undefined || upstream.closed || upstream.destroyed) {
      upstream = http2.connect(`http://${options.upstream}`, { maxSessionMemory: SESSION_MEMORY_MB });
      upstream.on('error', () => {});
    }
    return upstream;
  };
  const server = http2.createServer({ maxSessionMemory: SESSION_MEMORY_MB });
  const downstream = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    downstream.add(session);
    session.once('close', () => downstream.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const request = upstreamSession().request(headers, { endStream: false });
    let trailers: http2.OutgoingHttpHeaders = {};
    request.on('response', (responseHeaders) => {
      if (responseHeaders['grpc-status'] !== undefined) {
        stream.respond(responseHeaders, { endStream: true });
        return;
      }
      stream.respond(responseHeaders, { waitForTrailers: true });
      request.pipe(stream);
    });
    request.on('trailers', (received) => {
      trailers = received;
    });
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    request.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    stream.on('error', () => request.close(http2.constants.NGHTTP2_CANCEL));
    stream.on('close', () => {
      if (!request.closed) request.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.pipe(request);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of downstream) session.destroy();
        upstream?.destroy();
      }),
  };
}
