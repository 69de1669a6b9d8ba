import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type SecureContextOptions, type TlsOptions } from 'node:tls';
import type { DownstreamTlsConfig } from '../config/types.js';
import { MAX_REQUEST_HEADER_BYTES } from '../grpc/headers.js';
import { type ConnectionHandler, Http2Connection } from '../h2/connection.js';
import { CLIENT_PREFACE } from '../h2/constants.js';
import type { HeaderFields, Http2Stream } from '../h2/stream.js';
import { setAnswerTimeout } from '../h2/timers.js';
import type { Logger } from '../observability/logger.js';

export interface GrpcListenerOptions {
  readonly host: string;
  readonly port: number;
  /** A connection must send its first bytes, then complete the HTTP/2 handshake, within this each. */
  readonly handshakeTimeoutMs: number;
  /** A connection without an open stream for this long gets GOAWAY; 0 = never. */
  readonly idleTimeoutMs: number;
  readonly logger: Logger;
  /** TLS with ALPN h2 (and mutual TLS with a client CA) instead of h2c. */
  readonly tls?: DownstreamTlsConfig | undefined;
  /** Failed TLS handshakes logged per window at most; the rest are counted in the window's summary. */
  readonly handshakeFailureLogLimit?: { readonly count: number; readonly windowMs: number };
  /** Receives every request stream (the pipeline); must set `stream.handler` or answer it. */
  readonly onStream: (stream: Http2Stream, fields: HeaderFields, endStream: boolean) => void;
  /** A request whose header list is over MAX_REQUEST_HEADER_BYTES: answer it (the headers are not given). */
  readonly onHeadersTooLarge: (stream: Http2Stream, headerListSize: number) => void;
}

const HTTP1_BODY = 'this endpoint serves gRPC over HTTP/2 only (cleartext, prior knowledge)\n';
const HTTP1_REPLY =
  'HTTP/1.1 505 HTTP Version Not Supported\r\n' +
  `content-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: ${HTTP1_BODY.length}\r\n\r\n` +
  HTTP1_BODY;

/**
 * Downstream HTTP/2 settings. 1 MiB per stream carries large messages without waiting for
 * WINDOW_UPDATEs; the connection window is reopened as bytes arrive, bounded by what stalled streams
 * hold (the HTTP/2 layer's `maxHeldBytes`), so one stalled call never blocks its neighbours.
 * Concurrency is high enough for thousands of calls per client connection, low enough that a single
 * peer's open streams stay a bounded cost.
 */
const DOWNSTREAM_SETTINGS = {
  maxConcurrentStreams: 4096,
  initialWindowSize: 1024 * 1024,
  maxHeaderListSize: MAX_REQUEST_HEADER_BYTES,
} as const;
const DOWNSTREAM_LIMITS = { connectionWindowBytes: 16 * 1024 * 1024 } as const;

/** Per-connection state of the listener: handshake and idle timers. */
interface Tracked {
  handshakeTimer: NodeJS.Timeout | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  /** `performance.now()` when the last stream closed (the connection became idle). */
  idleSince: number;
}

function ignoreError(): void {}

const DEFAULT_HANDSHAKE_FAILURE_LOG_LIMIT = { count: 10, windowMs: 60_000 } as const;

function secureContextOptions(tls: DownstreamTlsConfig): SecureContextOptions {
  return { cert: tls.cert, key: tls.key, ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa }) };
}

/**
 * ALPN h2 only: a client that offers other protocols gets the `no_application_protocol` alert from
 * the callback; one that offers none at all is closed right after the handshake (`accepted`).
 * With a client CA, a client without a certificate it issued fails the handshake.
 */
function tlsServerOptions(tls: DownstreamTlsConfig, handshakeTimeoutMs: number): TlsOptions {
  return {
    ...secureContextOptions(tls),
    ALPNCallback: ({ protocols }) => (protocols.includes('h2') ? 'h2' : undefined),
    handshakeTimeout: handshakeTimeoutMs,
    ...(tls.clientCa === undefined ? {} : { requestCert: true, rejectUnauthorized: true }),
  };
}

/**
 * The downstream side (listener/): a TCP server that checks the first bytes of each connection for
 * the HTTP/2 preface, so that HTTP/1 clients get a readable 505 instead of a binary GOAWAY, then runs
 * an `Http2Connection` (h2c, prior knowledge) on the socket, whose streams go to the pipeline. It owns
 * the downstream connections: handshake and idle timeouts, and the graceful close (two GOAWAYs timed
 * by a PING round trip, a grace period, then destroy).
 */
export class GrpcListener implements ConnectionHandler {
  private readonly tcp: Server;
  private readonly tlsMode: boolean;
  /** Handshake failures in the current log window, and when it started. */
  private handshakeFailures = { logged: 0, suppressed: 0, windowStart: 0 };
  private handshakeSummaryTimer: NodeJS.Timeout | undefined;
  private readonly connections = new Map<Http2Connection, Tracked>();
  private readonly pending = new Set<Socket>();
  /** TLS connections still in their handshake, by peer `address:port` (the TLS socket is not yet ours). */
  private readonly handshaking = new Map<string, Socket>();
  private closing = false;
  private onConnectionsGone: (() => void) | undefined;
  private boundPort = 0;

  constructor(private readonly options: GrpcListenerOptions) {
    this.tlsMode = options.tls !== undefined;
    if (options.tls === undefined) {
      this.tcp = createTcpServer({ noDelay: true }, (socket) => this.accepted(socket));
      return;
    }
    const server = createTlsServer(tlsServerOptions(options.tls, options.handshakeTimeoutMs), (socket) => {
      this.handshaking.delete(peerKey(socket));
      if (socket.alpnProtocol !== 'h2') {
        this.handshakeFailed(socket.remoteAddress, 'the client offered no ALPN protocol (h2 required)');
        socket.destroy();
        return;
      }
      socket.setNoDelay(true);
      this.accepted(socket);
    });
    // So that close() need not wait for a stalled handshake's timeout before the server closes.
    server.on('connection', (raw: Socket) => {
      const key = peerKey(raw);
      this.handshaking.set(key, raw);
      raw.once('close', () => {
        if (this.handshaking.get(key) === raw) this.handshaking.delete(key);
      });
    });
    server.on('tlsClientError', (err, socket) => {
      // A client certificate that does not verify is refused by node itself, which destroys the
      // socket without an error: the reason is only in `authorizationError`.
      const refused: unknown = socket.authorizationError;
      this.handshakeFailed(
        socket.remoteAddress,
        refused ? `client certificate refused: ${String(refused)}` : describeTlsError(err),
      );
    });
    this.tcp = server;
  }

  /**
   * New certificates (a reload): handshakes from now on use them; open connections keep theirs and
   * are not dropped. Only a listener started with TLS can take them.
   */
  setTls(tls: DownstreamTlsConfig): void {
    if (!this.tlsMode) return;
    (this.tcp as ReturnType<typeof createTlsServer>).setSecureContext(secureContextOptions(tls));
  }

  /**
   * Logs one failed handshake with its reason and peer, at most `count` per window (a scanner or a
   * misconfigured client retrying in a loop must not flood the log); the window's rest is one summary.
   */
  private handshakeFailed(peer: string | undefined, reason: string): void {
    const limit = this.options.handshakeFailureLogLimit ?? DEFAULT_HANDSHAKE_FAILURE_LOG_LIMIT;
    const now = performance.now();
    const failures = this.handshakeFailures;
    if (now - failures.windowStart >= limit.windowMs) {
      this.flushHandshakeSummary();
      failures.windowStart = now;
      failures.logged = 0;
    }
    if (failures.logged < limit.count) {
      failures.logged++;
      this.options.logger.warn({ peer, reason }, `TLS handshake failed: ${reason}`);
      return;
    }
    failures.suppressed++;
    if (this.handshakeSummaryTimer === undefined) {
      this.handshakeSummaryTimer = setTimeout(
        () => this.flushHandshakeSummary(),
        limit.windowMs - (now - failures.windowStart),
      );
      this.handshakeSummaryTimer.unref();
    }
  }

  private flushHandshakeSummary(): void {
    clearTimeout(this.handshakeSummaryTimer);
    this.handshakeSummaryTimer = undefined;
    const suppressed = this.handshakeFailures.suppressed;
    if (suppressed === 0) return;
    this.handshakeFailures.suppressed = 0;
    this.options.logger.warn(
      { suppressed },
      `TLS handshake failed ${suppressed} more time(s) (not logged one by one)`,
    );
  }

  /** Resolves with the bound port once listening; rejects e.g. with EADDRINUSE. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.tcp.once('error', onError);
      this.tcp.listen(this.options.port, this.options.host, () => {
        this.tcp.off('error', onError);
        this.tcp.on('error', (err) => this.options.logger.error({ err: err.message }, 'listener error'));
        const address = this.tcp.address();
        this.boundPort = typeof address === 'object' && address !== null ? address.port : this.options.port;
        resolve(this.boundPort);
      });
    });
  }

  get port(): number {
    return this.boundPort;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Open client streams over every connection. */
  get activeStreamCount(): number {
    let streams = 0;
    for (const connection of this.connections.keys()) streams += connection.activeStreams;
    return streams;
  }

  /**
   * Graceful close: stop accepting, close every downstream connection gracefully (in-flight calls go
   * on, new streams are refused), wait for them up to `graceMs`, then destroy what is left (their
   * calls are cancelled, and cancel their upstream streams).
   */
  async close(graceMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.flushHandshakeSummary();
    const stopped = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const socket of this.pending) socket.destroy();
    this.pending.clear();
    for (const socket of this.handshaking.values()) socket.destroy();
    this.handshaking.clear();
    for (const connection of this.connections.keys()) connection.close();
    if (this.connections.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.onConnectionsGone = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const connection of this.connections.keys()) connection.destroy();
    await stopped;
  }

  private accepted(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.pending.add(socket);
    socket.on('error', ignoreError);
    // socket.setTimeout would fire before bytes that arrived while the gateway was busy are read.
    const prefaceTimer = setAnswerTimeout(() => {
      if (this.pending.has(socket)) socket.destroy();
    }, this.options.handshakeTimeoutMs);
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(prefaceTimer);
      this.firstBytes(socket, chunk);
    });
    socket.once('close', () => {
      clearTimeout(prefaceTimer);
      this.pending.delete(socket);
    });
  }

  /** The first bytes of a connection: HTTP/2 preface (or its start) or not. */
  private firstBytes(socket: Socket, chunk: Buffer): void {
    this.pending.delete(socket);
    const n = Math.min(chunk.length, CLIENT_PREFACE.length);
    if (chunk.compare(CLIENT_PREFACE, 0, n, 0, n) !== 0) {
      socket.end(HTTP1_REPLY);
      return;
    }
    if (this.closing) {
      socket.destroy();
      return;
    }
    const connection = new Http2Connection(
      socket,
      {
        role: 'server',
        settings: DOWNSTREAM_SETTINGS,
        limits: DOWNSTREAM_LIMITS,
        log: this.options.logger,
        initialBytes: chunk,
      },
      this,
    );
    if (connection.state === 'closed') return;
    // The first bytes only started the preface: a peer that stops there, or never sends its SETTINGS,
    // would otherwise hold the connection forever.
    const tracked: Tracked = {
      handshakeTimer:
        connection.state === 'handshake'
          ? setAnswerTimeout(() => {
              if (connection.state === 'handshake') connection.destroy();
            }, this.options.handshakeTimeoutMs)
          : undefined,
      idleTimer: undefined,
      idleSince: performance.now(),
    };
    this.connections.set(connection, tracked);
    this.armIdle(connection, tracked, this.options.idleTimeoutMs);
  }

  // ---- ConnectionHandler ----

  onStream(stream: Http2Stream, fields: HeaderFields, endStream: boolean): void {
    this.options.onStream(stream, fields, endStream);
  }

  onHeadersTooLarge(stream: Http2Stream, headerListSize: number): void {
    this.options.onHeadersTooLarge(stream, headerListSize);
  }

  onRemoteSettings(connection: Http2Connection): void {
    const tracked = this.connections.get(connection);
    if (tracked?.handshakeTimer !== undefined) {
      clearTimeout(tracked.handshakeTimer);
      tracked.handshakeTimer = undefined;
    }
    if (this.closing) connection.close();
  }

  /** No stream left: the idle clock starts (the timer is armed once and re-checks, never cleared per call). */
  onIdle(connection: Http2Connection): void {
    const tracked = this.connections.get(connection);
    if (tracked === undefined) return;
    tracked.idleSince = performance.now();
    if (tracked.idleTimer === undefined) this.armIdle(connection, tracked, this.options.idleTimeoutMs);
  }

  onClose(connection: Http2Connection): void {
    const tracked = this.connections.get(connection);
    if (tracked !== undefined) {
      clearTimeout(tracked.handshakeTimer);
      clearTimeout(tracked.idleTimer);
    }
    this.connections.delete(connection);
    if (this.connections.size === 0) this.onConnectionsGone?.();
  }

  private armIdle(connection: Http2Connection, tracked: Tracked, delayMs: number): void {
    if (this.options.idleTimeoutMs <= 0) return;
    // A call that arrived while the gateway was busy is read before the idle decision.
    tracked.idleTimer = setAnswerTimeout(() => this.checkIdle(connection, tracked), Math.max(1, delayMs));
  }

  private checkIdle(connection: Http2Connection, tracked: Tracked): void {
    tracked.idleTimer = undefined;
    if (connection.state === 'closed' || connection.activeStreams > 0) return;
    const idleFor = performance.now() - tracked.idleSince;
    const left = this.options.idleTimeoutMs - idleFor;
    if (left > 0) {
      this.armIdle(connection, tracked, left);
      return;
    }
    // GOAWAY (NO_ERROR): a well-behaved client reconnects when it has a call to make.
    connection.close();
  }
}

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}

/** OpenSSL's reason (`peer did not return a certificate`, `tlsv1 alert unknown ca`) and code. */
function describeTlsError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  // `error:0A0000C7:SSL routines:<function>:<reason>:<source file>:<line>:`
  const reason = /error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)/.exec(err.message)?.[1]?.trim() ?? err.message;
  return code === undefined || reason.includes(code) ? reason : `${reason} (${code})`;
}
