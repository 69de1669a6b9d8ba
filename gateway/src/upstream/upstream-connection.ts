import { GatewayError } from '../grpc/errors.js';
import { Status } from '../grpc/status.js';
import { connectH2 } from '../h2/client.js';
import type { ConnectionHandler, ConnectionLog, Http2Connection } from '../h2/connection.js';
import type { HeaderFields, Http2Stream, StreamHandler } from '../h2/stream.js';

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
 * - `idle`: no usable HTTP/2 connection; the next call connects (also where a dropped or GOAWAY'd
 *   connection leaves us: reconnection is lazy, on demand).
 * - `connecting`: TCP connect and HTTP/2 handshake in progress; callers share one promise, bounded by
 *   `connectTimeoutMs`.
 * - `open`: new streams are created synchronously on the connection.
 * - `closed`: terminal, after `close()` (endpoint ejected or vanished, or gateway shutdown); every
 *   connection was destroyed and `connect()` rejects.
 * A connection that received GOAWAY is "draining": it is detached at once (new streams go to a new
 * connection) and left to finish the streams the peer accepted; those above its last stream id are
 * closed as refused by the HTTP/2 layer.
 */
export type UpstreamConnectionState = 'idle' | 'connecting' | 'open' | 'closed';

/**
 * The pooled HTTP/2 connection to one endpoint, as a small state machine (see
 * `UpstreamConnectionState`). It knows nothing about routes, sticky sessions or retries: callers
 * decide what a failure means.
 */
export class UpstreamConnection implements ConnectionHandler {
  private stateValue: UpstreamConnectionState = 'idle';
  private current: Http2Connection | undefined;
  private connecting: Promise<Http2Connection> | undefined;
  private readonly draining = new Set<Http2Connection>();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private pingOutstanding = false;
  /** When the last keepalive PING went out (0: none yet on this connection), and the activity count then. */
  private lastPingAt = 0;
  private activityAtLastPing = 0;
  /** Streams opened and not yet released, across the current and draining connections. */
  private activeStreams = 0;
  /** HTTP/2 connections created so far (tests use it to see hidden reconnects). */
  connectionsCreated = 0;

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

  /** The open connection, or undefined when `connect()` is needed first. Synchronous: the hot path. */
  get openConnection(): Http2Connection | undefined {
    const connection = this.current;
    if (this.stateValue !== 'open' || connection === undefined || !connection.isOpen) return undefined;
    return connection;
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
    if (this.keepaliveTimer === undefined && this.stateValue === 'open') this.startKeepalive();
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
    const current = this.current;
    this.current = undefined;
    current?.destroy();
    for (const connection of this.draining) connection.destroy();
    this.draining.clear();
  }

  // ---- ConnectionHandler: events of the connections this object owns ----

  /** GOAWAY received: stop using the connection for new streams; its accepted streams finish. */
  onGoaway(connection: Http2Connection): void {
    if (this.current !== connection) return;
    this.current = undefined;
    if (this.stateValue === 'open') this.stateValue = 'idle';
    this.stopKeepalive();
    if (connection.state !== 'closed') this.draining.add(connection);
  }

  onClose(connection: Http2Connection): void {
    this.draining.delete(connection);
    if (this.current !== connection) return;
    this.current = undefined;
    if (this.stateValue === 'open') this.stateValue = 'idle';
    this.stopKeepalive();
  }

  private async startConnect(): Promise<Http2Connection> {
    this.stateValue = 'connecting';
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
        },
        this,
      );
    } catch (err) {
      if (this.stateValue === 'connecting') this.stateValue = 'idle';
      const reason = err instanceof Error ? err.message : String(err);
      throw connectFailed(
        this.authority,
        reason.includes('timed out') ? `connect timed out after ${this.options.connectTimeoutMs} ms` : reason,
        err,
      );
    }
    if (this.stateValue !== 'connecting') {
      connection.destroy();
      throw connectFailed(this.authority, 'connection closed');
    }
    this.current = connection;
    this.stateValue = 'open';
    if (this.activeStreams > 0) this.startKeepalive();
    return connection;
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
    this.pingOutstanding = false;
    this.lastPingAt = 0;
  }

  /**
   * Runs every interval while streams are active. A PING unanswered in time destroys the
   * connection: a frozen process or a wedged connection cannot answer it, and its streams fail
   * over. gRPC servers count PINGs that come less than 5 minutes apart while they send nothing as
   * abuse (C-core and grpc-go: two strikes, then GOAWAY `too_many_pings`, which would kill healthy
   * long-lived streams), so after one PING the next waits until the upstream has sent something
   * (HEADERS or DATA) or 5 minutes have passed. A quiet stream is thus checked once, then every
   * 5 minutes; a busy connection every interval.
   */
  private keepalive(): void {
    const connection = this.current;
    if (connection === undefined || this.pingOutstanding) return;
    if (this.activeStreams === 0) {
      this.stopKeepalive();
      return;
    }
    const now = performance.now();
    const activity = connection.stats.messagesReceived;
    if (
      this.lastPingAt !== 0 &&
      activity === this.activityAtLastPing &&
      now - this.lastPingAt < QUIET_PING_INTERVAL_MS
    ) {
      return;
    }
    this.lastPingAt = now;
    this.activityAtLastPing = activity;
    this.pingOutstanding = true;
    const timer = setTimeout(() => connection.destroy(), this.options.keepaliveTimeoutMs);
    timer.unref();
    const sent = connection.ping((err) => {
      clearTimeout(timer);
      this.pingOutstanding = false;
      if (err !== undefined) connection.destroy();
    });
    if (!sent) {
      clearTimeout(timer);
      this.pingOutstanding = false;
    }
  }
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
