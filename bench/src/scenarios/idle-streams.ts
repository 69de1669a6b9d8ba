import http2 from 'node:http2';
import { connectH2 } from '../grpc-client.js';
import { readCpuMicros, readRssBytes } from '../proc-stats.js';
import type { Target } from '../targets/target.js';

export interface IdleStreamsOptions {
  readonly streams: number;
  /** Most streams put on one client connection (fewer if the proxy advertises a lower limit). */
  readonly streamsPerConnection: number;
  /** One gRPC message each stream sends, to know the stream is open end to end (its echo came back). */
  readonly message: Buffer;
  /** Bound on opening and on closing, each. */
  readonly phaseTimeoutMs: number;
}

export interface IdleStreamsResult {
  readonly target: string;
  readonly requested: number;
  readonly connections: number;
  /** Streams whose echo came back: open through the proxy to the backend and idle. */
  readonly opened: number;
  readonly openMs: number;
  readonly rssBeforeBytes: number | undefined;
  readonly rssOpenBytes: number | undefined;
  /** Proxy CPU spent opening and closing them, per stream, µs. */
  readonly cpuMicrosPerStream: number | undefined;
  readonly closeMs: number;
  /** How the streams ended after the client half-closed: `grpc-status 0` for a clean close. */
  readonly closeOutcomes: Record<string, number>;
}

interface IdleStream {
  readonly stream: http2.ClientHttp2Stream;
  httpStatus: number | undefined;
  grpcStatus: string | undefined;
  echoed: boolean;
  closed: boolean;
}

/**
 * Opens `streams` concurrent calls through a target, each sending one message and then staying open;
 * measures the time until every echo is back and the proxy's RSS while they are idle, then half-closes
 * them all and waits for their trailers.
 */
export async function runIdleStreams(
  target: Target,
  options: IdleStreamsOptions,
): Promise<IdleStreamsResult> {
  const pid = target.proxyPid;
  const rssBeforeBytes = pid === undefined ? undefined : readRssBytes(pid);
  const cpuBefore = pid === undefined ? 0 : readCpuMicros(pid);
  const sessions: http2.ClientHttp2Session[] = [];
  const streams: IdleStream[] = [];
  try {
    const first = await connectH2(target.port);
    sessions.push(first);
    const advertised = first.remoteSettings.maxConcurrentStreams ?? options.streamsPerConnection;
    const perConnection = Math.max(1, Math.min(options.streamsPerConnection, advertised));
    const connections = Math.ceil(options.streams / perConnection);
    while (sessions.length < connections) sessions.push(await connectH2(target.port));
    let echoed = 0;
    let closed = 0;
    let onProgress: (() => void) | undefined;
    const openStarted = performance.now();
    for (let i = 0; i < options.streams; i++) {
      const session = sessions[Math.floor(i / perConnection)] as http2.ClientHttp2Session;
      const stream = session.request(
        {
          ':method': 'POST',
          ':path': target.path,
          'content-type': 'application/grpc',
          te: 'trailers',
          ...target.headers,
        },
        { endStream: false },
      );
      const entry: IdleStream = {
        stream,
        httpStatus: undefined,
        grpcStatus: undefined,
        echoed: false,
        closed: false,
      };
      streams.push(entry);
      const readStatus = (fields: http2.IncomingHttpHeaders) => {
        const status = fields['grpc-status'];
        if (typeof status === 'string') entry.grpcStatus = status;
      };
      stream.on('response', (headers) => {
        entry.httpStatus = Number(headers[':status']);
        readStatus(headers);
      });
      stream.on('trailers', readStatus);
      stream.on('data', () => {
        if (entry.echoed) return;
        entry.echoed = true;
        echoed++;
        onProgress?.();
      });
      stream.on('error', () => {});
      stream.on('close', () => {
        entry.closed = true;
        closed++;
        onProgress?.();
      });
      stream.write(options.message);
    }
    const until = (done: () => boolean) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(finish, options.phaseTimeoutMs);
        function finish() {
          clearTimeout(timer);
          onProgress = undefined;
          resolve();
        }
        onProgress = () => {
          if (done()) finish();
        };
        onProgress();
      });
    await until(() => echoed + closed >= options.streams);
    const openMs = performance.now() - openStarted;
    const opened = echoed;
    const rssOpenBytes = pid === undefined ? undefined : readRssBytes(pid);
    const closeStarted = performance.now();
    for (const entry of streams) if (!entry.closed) entry.stream.end();
    await until(() => closed >= options.streams);
    const closeMs = performance.now() - closeStarted;
    const closeOutcomes: Record<string, number> = {};
    for (const entry of streams) {
      const outcome = !entry.closed
        ? 'still open at the deadline'
        : entry.grpcStatus !== undefined
          ? `grpc-status ${entry.grpcStatus}`
          : entry.httpStatus !== undefined && entry.httpStatus !== 200
            ? `HTTP ${entry.httpStatus} (no grpc-status)`
            : `reset (RST_STREAM code ${entry.stream.rstCode ?? '?'})`;
      closeOutcomes[outcome] = (closeOutcomes[outcome] ?? 0) + 1;
    }
    return {
      target: target.id,
      requested: options.streams,
      connections: sessions.length,
      opened,
      openMs,
      rssBeforeBytes,
      rssOpenBytes,
      cpuMicrosPerStream: pid === undefined ? undefined : (readCpuMicros(pid) - cpuBefore) / options.streams,
      closeMs,
      closeOutcomes,
    };
  } finally {
    for (const entry of streams) if (!entry.closed) entry.stream.close(http2.constants.NGHTTP2_CANCEL);
    for (const session of sessions) session.destroy();
  }
}
