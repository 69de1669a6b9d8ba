import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type ClientSessionOptions,
  connect,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { GatewayError } from '../grpc/errors.js';
import { Status } from '../grpc/status.js';

/** Tuning of one upstream HTTP/2 session (connect-es' Http2SessionManager options). */
export interface UpstreamSessionOptions {
  /** Limit on TCP connect plus the HTTP/2 preface and SETTINGS exchange. */
  readonly connectTimeoutMs: number;
  /** PING period while streams are active; 0 disables keepalive. */
  readonly keepaliveIntervalMs: number;
  /** A PING without an ACK within this time destroys the session (its streams fail over). */
  readonly keepaliveTimeoutMs: number;
}

export const DEFAULT_UPSTREAM_SESSION_OPTIONS: UpstreamSessionOptions = Object.freeze({
  connectTimeoutMs: 10_000,
  keepaliveIntervalMs: 30_000,
  keepaliveTimeoutMs: 10_000,
});

/**
 * Receive windows towards the upstream (how much response data it may have in flight to us).
 * Deliberately modest: a node:http2 session stops reading its socket while one of its writes is in
 * progress (node_http2.cc, MaybeStopReading), and so does a node upstream. With 4 MiB / 32 MiB here
 * and 8 MiB at a node backend, both ends filled the loopback socket buffers (~4 MiB send buffer
 * each way), both writes blocked, neither read again: the connection froze for good (1 start in 10
 * to 5). node credits the connection window as soon as it parses a DATA frame, so this window
 * bounds the peer's bytes sitting in the socket buffers: 1 MiB always fits, so the upstream's write
 * completes, it reads again, and ours drains. 256 KiB per stream still carries a 64 KiB message
 * without a WINDOW_UPDATE round trip; 64 KiB throughput and CPU per call stayed within noise of
 * 4 MiB / 32 MiB (docs/data-path.md).
 */
const STREAM_WINDOW_BYTES = 256 * 1024;
const SESSION_WINDOW_BYTES = 1024 * 1024;

const CONNECT_OPTIONS: ClientSessionOptions = {
  settings: { enablePush: false, initialWindowSize: STREAM_WINDOW_BYTES },
  // Assumed until the upstream's SETTINGS arrive; node's default of 100 would throttle the first burst.
  peerMaxConcurrentStreams: 100_000,
  // node's default cap (10 MB of buffered session data) is below one 8 MiB message plus windows.
  maxSessionMemory: 256,
};

/**
 * The priority fields are node's defaults, spelled out: `request()` copies these options and fills
 * in missing priority fields, and completing the object there (a shape change per call) was a
 * visible share of its cost. Same values, so the same HEADERS frame.
 */
const REQUEST_OPTIONS = { endStream: false, weight: 16, parent: 0, exclusive: false, silent: false } as const;

/**
 * - `idle`: no usable HTTP/2 session; the next call connects (this is also where a dropped or
 *   GOAWAY'd session leaves us: reconnection is lazy, on demand).
 * - `connecting`: TCP connect and HTTP/2 handshake in progress; callers share one promise, bounded by
 *   `connectTimeoutMs`.
 * - `open`: new streams are created synchronously on the session.
 * - `closed`: terminal, after `close()` (endpoint ejected or vanished, or gateway shutdown); every
 *   session was destroyed and `connect()` rejects.
 * A session that received GOAWAY is "draining": it is detached at once (new streams go to a new
 * session) and left to finish the streams the peer accepted (ids up to lastStreamID); the streams
 * above were refused by the peer and node reports them closed with REFUSED_STREAM.
 */
export type UpstreamSessionState = 'idle' | 'connecting' | 'open' | 'closed';

const kOwner = Symbol('stickygw.upstreamOwner');
type OwnedSession = ClientHttp2Session & { [kOwner]?: UpstreamSession };

function onSessionGoaway(this: OwnedSession): void {
  this[kOwner]?.detach(this);
}

function onSessionClose(this: OwnedSession): void {
  this[kOwner]?.sessionClosed(this);
}

// Session errors are reported to the calls through their streams; the listener only keeps node
// from throwing an unhandled 'error'.
function onSessionError(): void {}

/**
 * The pooled HTTP/2 connection to one endpoint, as a small state machine (see
 * `UpstreamSessionState`). It knows nothing about routes, sessions of users, or retries: callers
 * decide what a failure means.
 */
export class UpstreamSession {
  private stateValue: UpstreamSessionState = 'idle';
  private current: ClientHttp2Session | undefined;
  private connecting: Promise<ClientHttp2Session> | undefined;
  private readonly draining = new Set<ClientHttp2Session>();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private pingOutstanding = false;
  /** Streams opened and not yet released, across the current and draining sessions. */
  private activeStreams = 0;
  /** HTTP/2 sessions created so far (tests use it to see hidden reconnects). */
  sessionsCreated = 0;

  constructor(
    /** `host:port` of the endpoint. */
    readonly authority: string,
    private readonly options: UpstreamSessionOptions = DEFAULT_UPSTREAM_SESSION_OPTIONS,
  ) {}

  get state(): UpstreamSessionState {
    return this.stateValue;
  }

  /** The open session, or undefined when `connect()` is needed first. Synchronous: the hot path. */
  get openSession(): ClientHttp2Session | undefined {
    const session = this.current;
    if (this.stateValue !== 'open' || session === undefined || session.closed || session.destroyed)
      return undefined;
    return session;
  }

  /** Resolves with an open session, connecting if needed; rejects with `upstream_connect_failed`. */
  connect(): Promise<ClientHttp2Session> {
    const open = this.openSession;
    if (open !== undefined) return Promise.resolve(open);
    if (this.stateValue === 'closed') return Promise.reject(connectFailed(this.authority, 'session closed'));
    if (this.connecting !== undefined) return this.connecting;
    this.connecting = this.startConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /**
   * Opens a stream on the open session (call only when `openSession` is defined). The caller must
   * call `release()` once the stream has closed. May throw if the session died in between.
   */
  request(session: ClientHttp2Session, headers: OutgoingHttpHeaders): ClientHttp2Stream {
    const stream = session.request(headers, REQUEST_OPTIONS);
    this.activeStreams++;
    return stream;
  }

  /** Bookkeeping for keepalive: one stream opened by `request()` has closed. */
  release(): void {
    if (this.activeStreams > 0) this.activeStreams--;
  }

  /** Destroys every session (cancelling their streams) and refuses new connects. Idempotent. */
  close(): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.stopKeepalive();
    const current = this.current;
    this.current = undefined;
    current?.destroy();
    for (const session of this.draining) session.destroy();
    this.draining.clear();
  }

  /** @internal GOAWAY received on `session`: stop using it for new streams. */
  detach(session: ClientHttp2Session): void {
    if (this.current !== session) return;
    this.current = undefined;
    if (this.stateValue === 'open') this.stateValue = 'idle';
    this.stopKeepalive();
    if (!session.destroyed) this.draining.add(session);
  }

  /** @internal `session` is gone (peer closed, socket error, destroyed). */
  sessionClosed(session: ClientHttp2Session): void {
    this.draining.delete(session);
    if (this.current !== session) return;
    this.current = undefined;
    if (this.stateValue === 'open') this.stateValue = 'idle';
    this.stopKeepalive();
  }

  private startConnect(): Promise<ClientHttp2Session> {
    this.stateValue = 'connecting';
    const session: OwnedSession = connect(`http://${this.authority}`, CONNECT_OPTIONS);
    this.sessionsCreated++;
    session[kOwner] = this;
    this.current = session;
    session.on('goaway', onSessionGoaway);
    session.on('close', onSessionClose);
    session.on('error', onSessionError);
    return new Promise<ClientHttp2Session>((resolve, reject) => {
      const fail = (reason: string, cause?: unknown): void => {
        clearTimeout(timer);
        session.off('remoteSettings', onConnect);
        session.off('close', onEarlyClose);
        session.off('error', onEarlyError);
        if (this.current === session) {
          this.current = undefined;
          if (this.stateValue === 'connecting') this.stateValue = 'idle';
        }
        session.destroy();
        reject(connectFailed(this.authority, reason, cause));
      };
      const onConnect = (): void => {
        clearTimeout(timer);
        session.off('close', onEarlyClose);
        session.off('error', onEarlyError);
        if (this.current !== session || this.stateValue !== 'connecting') {
          reject(connectFailed(this.authority, 'session closed'));
          return;
        }
        session.setLocalWindowSize(SESSION_WINDOW_BYTES);
        this.stateValue = 'open';
        this.startKeepalive(session);
        resolve(session);
      };
      const onEarlyError = (err: Error): void => fail(err.message, err);
      const onEarlyClose = (): void => fail('connection closed during the handshake');
      const timer = setTimeout(
        () => fail(`connect timed out after ${this.options.connectTimeoutMs} ms`),
        this.options.connectTimeoutMs,
      );
      // Open once the peer's SETTINGS arrive, not at TCP connect: a port that accepts connections
      // but does not speak HTTP/2 must fail the connect, not the first calls.
      session.once('remoteSettings', onConnect);
      session.once('error', onEarlyError);
      session.once('close', onEarlyClose);
    });
  }

  private startKeepalive(session: ClientHttp2Session): void {
    if (this.options.keepaliveIntervalMs <= 0) return;
    this.stopKeepalive();
    this.keepaliveTimer = setInterval(() => this.keepalive(session), this.options.keepaliveIntervalMs);
    this.keepaliveTimer.unref();
  }

  private stopKeepalive(): void {
    if (this.keepaliveTimer !== undefined) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    this.pingOutstanding = false;
  }

  /**
   * PINGs only while streams are active: an idle session is checked by its next call anyway, and
   * servers with a ping enforcement policy (grpc-go: 5 min without streams) would GOAWAY idle pingers.
   */
  private keepalive(session: ClientHttp2Session): void {
    if (this.pingOutstanding || this.activeStreams === 0 || session.destroyed || session.closed) return;
    this.pingOutstanding = true;
    const timer = setTimeout(() => session.destroy(), this.options.keepaliveTimeoutMs);
    timer.unref();
    const sent = session.ping((err) => {
      clearTimeout(timer);
      this.pingOutstanding = false;
      if (err !== null && !session.destroyed) session.destroy();
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
    { where: 'local', cause },
  );
}
