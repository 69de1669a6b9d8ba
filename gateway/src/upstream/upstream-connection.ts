import { isIP } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { GatewayError } from '../grpc/gateway-error.js';
import { Status } from '../grpc/status.js';
import { connectH2 } from '../h2/client.js';
import type { ConnectionHandler, ConnectionLog, Http2Connection } from '../h2/connection.js';
import type { HeaderFields, Http2Stream, StreamHandler } from '../h2/stream.js';
import { setAnswerTimeout } from '../h2/timers.js';

/** Tuning of one upstream HTTP/2 connection (connect-es' Http2SessionManager options). */
export interface UpstreamConnectionOptions {
  /** Limit on TCP connect plus the HTTP/2 preface and SETTINGS exchange. */
  readonly connectTimeoutMs: number;
  /** PING period while streams are active; 0 disables keepalive. */
  readonly keepaliveIntervalMs: number;
  /** A PING without an ACK within this time destroys the connection (its streams fail over). */
  readonly keepaliveTimeoutMs: number;
  /** Where the HTTP/2 layer reports protocol errors and abuse by the upstream. */
  readonly log?: ConnectionLog;
  /** TLS (ALPN h2) instead of cleartext HTTP/2; undefined = h2c. */
  readonly tls?: UpstreamTls;
}

/** PEM contents (a cluster's YAML `tls`). */
export interface UpstreamTls {
  /** Trusted CAs; undefined = node's bundled roots. */
  readonly ca?: string;
  /** Client certificate and key, for upstreams that require mutual TLS. */
  readonly cert?: string;
  readonly key?: string;
  /** SNI and the name checked in the certificate; default the endpoint's host (when not an IP). */
  readonly serverName?: string;
}

export const DEFAULT_UPSTREAM_CONNECTION_OPTIONS: UpstreamConnectionOptions = Object.freeze({
  connectTimeoutMs: 10_000,
  keepaliveIntervalMs: 30_000,
  keepaliveTimeoutMs: 10_000,
});

/**
 * Receive windows towards the upstream: 256 KiB per stream carries a 64 KiB message without a
 * WINDOW_UPDATE round trip; the connection window is reopened as bytes arrive (the HTTP/2 layer
 * bounds what stalled streams may hold), so one slow client never stalls the others' responses.
 */
const UPSTREAM_SETTINGS = { initialWindowSize: 256 * 1024, maxConcurrentStreams: 1000 } as const;
const UPSTREAM_LIMITS = { connectionWindowBytes: 16 * 1024 * 1024 } as const;
/** gRPC servers' default minimum interval between PINGs without data (GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, grpc-go MinTime). */
const QUIET_PING_INTERVAL_MS = 5 * 60 * 1000;

/**
 * More connections to one endpoint open only while every open one has its connection-level send
 * window used up: a backend that grants node's default 64 KiB connection window would otherwise
 * hold all calls to one window per round trip (nginx gets the same effect from one upstream
 * connection per request). Small calls keep sharing one connection, which batches best.
 */
const MAX_CONNECTIONS_PER_ENDPOINT = 8;

const TLS_FAILURE_LOG_INTERVAL_MS = 30_000;

/**
 * - `idle`: no usable HTTP/2 connection; the next call connects (also where dropped or GOAWAY'd
 *   connections leave us: reconnection is lazy, on demand).
 * - `connecting`: TCP connect and HTTP/2 handshake in progress and none open; callers share one
 *   promise, bounded by `connectTimeoutMs`.
 * - `open`: at least one connection takes streams; new streams are created synchronously.
 * - `closed`: terminal, after `close()` (endpoint ejected or vanished, or gateway shutdown); every
 *   connection was destroyed and `connect()` rejects.
 * A connection that received GOAWAY is "draining": it leaves the open set at once (new streams go
 * elsewhere) and is left to finish the streams the peer accepted; those above its last stream id
 * are closed as refused by the HTTP/2 layer.
 */
export type UpstreamConnectionState = 'idle' | 'connecting' | 'open' | 'closed';

/** Keepalive bookkeeping of one connection. */
interface PingState {
  /** When the last keepalive PING went out (0: none yet), and the connection's activity count then. */
  lastPingAt: number;
  activityAtLastPing: number;
  outstanding: boolean;
}

/**
 * The pooled HTTP/2 connections to one endpoint, as a small state machine (see
 * `UpstreamConnectionState`): usually one connection, more while the open ones are held back by
 * the peer's connection window. It knows nothing about routes, sticky sessions or retries: callers
 * decide what a failure means.
 */
export class UpstreamConnection implements ConnectionHandler {
  private stateValue: UpstreamConnectionState = 'idle';
  /** Connections taking new streams, oldest first. */
  private readonly open: Http2Connection[] = [];
  private connecting: Promise<Http2Connection> | undefined;
  private readonly draining = new Set<Http2Connection>();
  private readonly pings = new WeakMap<Http2Connection, PingState>();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  /** Streams opened and not yet released, across all connections. */
  private activeStreams = 0;
  /** HTTP/2 connections created so far (tests use it to see hidden reconnects). */
  connectionsCreated = 0;
  /** The last TLS failure logged: the same one is logged again only after TLS_FAILURE_LOG_INTERVAL_MS. */
  private lastTlsFailure: { reason: string; at: number } | undefined;

  constructor(
    /** `host:port` of the endpoint. */
    readonly authority: string,
    private readonly host: string,
    private readonly port: number,
    private readonly options: UpstreamConnectionOptions = DEFAULT_UPSTREAM_CONNECTION_OPTIONS,
  ) {}

  get state(): UpstreamConnectionState {
    return this.stateValue;
  }

  /**
   * An open connection to put a stream on, or undefined when `connect()` is needed first (none is
   * open, or all are held back by their connection window and another may be opened). Synchronous:
   * the hot path.
   */
  get openConnection(): Http2Connection | undefined {
    if (this.stateValue !== 'open') return undefined;
    const open = this.open;
    let fallback: Http2Connection | undefined;
    for (let i = 0; i < open.length; i++) {
      const connection = open[i] as Http2Connection;
      if (!connection.isOpen) continue;
      if (!connection.sendWindowExhausted) return connection;
      fallback ??= connection;
    }
    if (fallback === undefined) return undefined;
    // Every connection waits for window: grow the pool unless it is full or already growing.
    if (open.length < MAX_CONNECTIONS_PER_ENDPOINT && this.connecting === undefined) return undefined;
    return fallback;
  }

  /** Streams opened through `request()` and not yet released: this endpoint's calls in flight. */
  get streamsInFlight(): number {
    return this.activeStreams;
  }

  /** Resolves with an open connection, connecting if needed; rejects with `upstream_connect_failed`. */
  connect(): Promise<Http2Connection> {
    const open = this.openConnection;
    if (open !== undefined) return Promise.resolve(open);
    if (this.stateValue === 'closed')
      return Promise.reject(connectFailed(this.authority, 'connection closed'));
    if (this.connecting !== undefined) return this.connecting;
    this.connecting = this.startConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /**
   * Opens a stream on `connection` (from `openConnection` or `connect()`). The caller must call
   * `release()` once the stream has closed. Throws if the connection stopped taking streams.
   */
  request(
    connection: Http2Connection,
    fields: HeaderFields,
    endStream: boolean,
    handler: StreamHandler,
  ): Http2Stream {
    const stream = connection.request(fields, endStream, handler);
    this.activeStreams++;
    if (this.keepaliveTimer === undefined) this.startKeepalive();
    return stream;
  }

  /** Bookkeeping for keepalive: one stream opened by `request()` has closed. */
  release(): void {
    if (this.activeStreams > 0) this.activeStreams--;
  }

  /** Destroys every connection (cancelling their streams) and refuses new connects. Idempotent. */
  close(): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.stopKeepalive();
    for (const connection of this.open.splice(0)) connection.destroy();
    for (const connection of this.draining) connection.destroy();
    this.draining.clear();
  }

  // ---- ConnectionHandler: events of the connections this object owns ----

  /** GOAWAY received: stop using the connection for new streams; its accepted streams finish. */
  onGoaway(connection: Http2Connection): void {
    if (!this.forget(connection)) return;
    if (connection.state !== 'closed') this.draining.add(connection);
  }

  onClose(connection: Http2Connection): void {
    this.draining.delete(connection);
    this.forget(connection);
  }

  /** Takes `connection` out of the open set; false if it was not in it. */
  private forget(connection: Http2Connection): boolean {
    const at = this.open.indexOf(connection);
    if (at < 0) return false;
    this.open.splice(at, 1);
    if (this.open.length === 0 && this.stateValue === 'open') {
      this.stateValue = this.connecting === undefined ? 'idle' : 'connecting';
    }
    return true;
  }

  private async startConnect(): Promise<Http2Connection> {
    if (this.stateValue !== 'open') this.stateValue = 'connecting';
    this.connectionsCreated++;
    let connection: Http2Connection;
    try {
      connection = await connectH2(
        {
          host: this.host,
          port: this.port,
          timeoutMs: this.options.connectTimeoutMs,
          settings: UPSTREAM_SETTINGS,
          limits: UPSTREAM_LIMITS,
          log: this.options.log,
          ...(this.options.tls === undefined ? {} : { socket: this.tlsSocket(this.options.tls) }),
        },
        this,
      );
    } catch (err) {
      if (this.stateValue === 'connecting') this.stateValue = 'idle';
      const reason = describeConnectError(err, this.options.tls !== undefined);
      if (this.options.tls !== undefined) this.logTlsFailure(reason);
      throw connectFailed(
        this.authority,
        reason.includes('timed out') ? `connect timed out after ${this.options.connectTimeoutMs} ms` : reason,
        err,
      );
    }
    if (this.state === 'closed') {
      connection.destroy();
      throw connectFailed(this.authority, 'connection closed');
    }
    this.open.push(connection);
    this.stateValue = 'open';
    return connection;
  }

  /**
   * A TLS connection that verifies the certificate (chain and name: `serverName`, else the host) and
   * insists on ALPN h2: an upstream that negotiates nothing or HTTP/1.1 is refused before the preface.
   */
  private tlsSocket(tls: UpstreamTls): TLSSocket {
    const serverName = tls.serverName ?? (isIP(this.host) === 0 ? this.host : undefined);
    const socket = connectTls({
      host: this.host,
      port: this.port,
      ALPNProtocols: ['h2'],
      ...(serverName === undefined ? {} : { servername: serverName }),
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: tls.key }),
    });
    socket.setNoDelay(true);
    socket.once('secureConnect', () => {
      if (socket.alpnProtocol !== 'h2') {
        socket.destroy(
          new Error(`TLS: the upstream did not negotiate ALPN h2 (got ${socket.alpnProtocol || 'none'})`),
        );
      }
    });
    return socket;
  }

  /**
   * A refused certificate is a configuration problem an operator must see (the client only gets
   * UNAVAILABLE), but every call retries the connect: each distinct reason is logged, a repeated one
   * at most once per interval.
   */
  private logTlsFailure(reason: string): void {
    const now = performance.now();
    const last = this.lastTlsFailure;
    if (last !== undefined && last.reason === reason && now - last.at < TLS_FAILURE_LOG_INTERVAL_MS) return;
    this.lastTlsFailure = { reason, at: now };
    this.options.log?.warn(
      { upstream: this.authority, reason },
      `TLS connection to ${this.authority} failed: ${reason}`,
    );
  }

  private startKeepalive(): void {
    if (this.options.keepaliveIntervalMs <= 0) return;
    this.stopKeepalive();
    this.keepaliveTimer = setInterval(() => this.keepalive(), this.options.keepaliveIntervalMs);
    this.keepaliveTimer.unref();
  }

  private stopKeepalive(): void {
    if (this.keepaliveTimer !== undefined) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }

  /**
   * Runs every interval while streams are active, for each connection carrying streams. A PING
   * unanswered in time destroys the connection: a frozen process or a wedged connection cannot
   * answer it, and its streams fail over. gRPC servers count PINGs that come less than 5 minutes
   * apart while they send nothing as abuse (C-core and grpc-go: two strikes, then GOAWAY
   * `too_many_pings`, which would kill healthy long-lived streams), so after one PING the next waits
   * until the upstream has sent something (HEADERS or DATA) or 5 minutes have passed. A quiet stream
   * is thus checked once, then every 5 minutes; a busy connection every interval.
   */
  private keepalive(): void {
    if (this.activeStreams === 0) {
      this.stopKeepalive();
      return;
    }
    const now = performance.now();
    for (const connection of [...this.open, ...this.draining]) {
      if (connection.activeStreams === 0 || connection.state === 'closed') continue;
      let ping = this.pings.get(connection);
      if (ping === undefined) {
        ping = { lastPingAt: 0, activityAtLastPing: 0, outstanding: false };
        this.pings.set(connection, ping);
      }
      if (ping.outstanding) continue;
      const activity = connection.stats.messagesReceived;
      const quiet = activity === ping.activityAtLastPing;
      if (ping.lastPingAt !== 0 && quiet && now - ping.lastPingAt < QUIET_PING_INTERVAL_MS) continue;
      this.ping(connection, ping, now, activity);
    }
  }

  private ping(connection: Http2Connection, ping: PingState, now: number, activity: number): void {
    ping.lastPingAt = now;
    ping.activityAtLastPing = activity;
    ping.outstanding = true;
    let answered = false;
    const timer = setAnswerTimeout(() => {
      if (!answered) connection.destroy();
    }, this.options.keepaliveTimeoutMs);
    const sent = connection.ping((err) => {
      answered = true;
      clearTimeout(timer);
      ping.outstanding = false;
      if (err !== undefined) connection.destroy();
    });
    if (!sent) {
      clearTimeout(timer);
      ping.outstanding = false;
    }
  }
}

/** TLS failures carry OpenSSL's code (CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID): named in the log. */
function describeConnectError(err: unknown, tls: boolean): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown }).code;
  if (!tls || typeof code !== 'string' || message.includes(code)) return message;
  return `TLS: ${message} (${code})`;
}

function connectFailed(authority: string, reason: string, cause?: unknown): GatewayError {
  return new GatewayError(
    Status.UNAVAILABLE,
    'upstream_connect_failed',
    `connect to ${authority} failed: ${reason}`,
    {
      where: 'local',
      cause,
    },
  );
}
