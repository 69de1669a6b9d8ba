import {
  constants,
  createServer as createHttp2Server,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { MAX_REQUEST_HEADER_BYTES } from '../grpc/headers.js';
import type { Logger } from '../observability/logger.js';

export interface GrpcListenerOptions {
  readonly host: string;
  readonly port: number;
  /** A connection must send its first bytes, then complete the HTTP/2 handshake, within this each. */
  readonly handshakeTimeoutMs: number;
  /** A connection without an open stream for this long gets GOAWAY; 0 = never. */
  readonly idleTimeoutMs: number;
  readonly logger: Logger;
  /** Receives every HTTP/2 stream (the pipeline). */
  readonly onStream: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
}

/** The HTTP/2 connection preface every h2c prior-knowledge client sends first (RFC 9113 3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const HTTP1_BODY = 'this endpoint serves gRPC over HTTP/2 only (cleartext, prior knowledge)\n';
const HTTP1_REPLY =
  'HTTP/1.1 505 HTTP Version Not Supported\r\n' +
  `content-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: ${HTTP1_BODY.length}\r\n\r\n` +
  HTTP1_BODY;

/**
 * Large receive windows so request messages of 64 KiB+ flow without a WINDOW_UPDATE round trip,
 * and a high stream limit (thousands of concurrent calls per client connection). Memory stays
 * bounded: node re-opens a window only as the gateway consumes the data.
 */
const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
const SESSION_WINDOW_BYTES = 32 * 1024 * 1024;
const MAX_CONCURRENT_STREAMS = 100_000;

const kPending = Symbol('stickygw.pendingListener');
type PendingSocket = Socket & { [kPending]?: GrpcListener };

/** Per downstream session: open streams and the timer that runs while there are none. */
interface SessionActivity {
  streams: number;
  idleTimer: NodeJS.Timeout | undefined;
  readonly idleTimeoutMs: number;
}
const kActivity = Symbol('stickygw.sessionActivity');
type TrackedSession = ServerHttp2Session & { [kActivity]?: SessionActivity };
const kOwner = Symbol('stickygw.ownerSession');
// `stream.session` is unset once the stream is destroyed, before 'close': keep our own reference.
type TrackedStream = ServerHttp2Stream & { [kOwner]?: TrackedSession };

/** The largest stream id: a GOAWAY naming it announces a close without refusing anything yet. */
const MAX_STREAM_ID = 2 ** 31 - 1;
/**
 * Between the two GOAWAYs of a graceful close: time for streams the client sent before it saw the
 * first one to arrive. (grpc-go waits for a PING round trip instead; node never reports the
 * acknowledgement of a PING sent after a GOAWAY, so a fixed delay it is.)
 */
const CLOSE_NOTICE_MS = 2_000;

function finishClose(session: ServerHttp2Session): void {
  if (!session.closed && !session.destroyed) session.close();
}

/**
 * Closes a downstream session in two steps (RFC 9113 6.8): a GOAWAY with the largest stream id tells
 * the client to open no more streams; the final GOAWAY, CLOSE_NOTICE_MS later, names the last stream
 * processed. A single GOAWAY would refuse the streams the client had already sent but the gateway
 * not yet read, failing those calls with UNAVAILABLE.
 */
function closeGracefully(session: ServerHttp2Session): void {
  if (session.closed || session.destroyed) return;
  try {
    session.goaway(constants.NGHTTP2_NO_ERROR, MAX_STREAM_ID);
  } catch {
    finishClose(session);
    return;
  }
  setTimeout(finishClose, CLOSE_NOTICE_MS, session).unref();
}

function onIdle(session: TrackedSession): void {
  // GOAWAY (NO_ERROR): a well-behaved client reconnects when it has a call to make.
  closeGracefully(session);
}
function armIdle(session: TrackedSession, activity: SessionActivity): void {
  if (activity.idleTimeoutMs <= 0) return;
  activity.idleTimer = setTimeout(onIdle, activity.idleTimeoutMs, session);
  activity.idleTimer.unref();
}
function onStreamClosed(this: TrackedStream): void {
  const session = this[kOwner];
  this[kOwner] = undefined;
  const activity = session?.[kActivity];
  if (session === undefined || activity === undefined) return;
  activity.streams--;
  if (activity.streams === 0) armIdle(session, activity);
}
function onHandshakeTimeout(session: ServerHttp2Session): void {
  session.destroy();
}

function onFirstBytes(this: PendingSocket, chunk: Buffer): void {
  this[kPending]?.firstBytes(this, chunk);
}
function onPrefaceTimeout(this: PendingSocket): void {
  this.destroy();
}
function ignoreError(): void {}

/**
 * The downstream side (listener/): a TCP server that checks the first bytes of each connection for
 * the HTTP/2 preface, so that HTTP/1 clients get a readable 505 instead of a binary GOAWAY, then
 * hands the socket to a `node:http2` server (h2c, prior knowledge) whose streams go to the pipeline.
 * It owns the downstream sessions and their graceful close (GOAWAY, grace period, destroy).
 */
export class GrpcListener {
  private readonly tcp: Server;
  private readonly http2: Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly pending = new Set<Socket>();
  private closing = false;
  private onSessionsGone: (() => void) | undefined;
  private boundPort = 0;

  constructor(private readonly options: GrpcListenerOptions) {
    this.http2 = createHttp2Server({
      settings: {
        maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
        initialWindowSize: STREAM_WINDOW_BYTES,
        maxHeaderListSize: MAX_REQUEST_HEADER_BYTES,
        enablePush: false,
      },
      maxSessionMemory: 256,
    });
    this.http2.on('session', (session) => this.sessionOpened(session));
    this.http2.on('stream', (stream, headers) => {
      this.streamOpened(stream);
      options.onStream(stream, headers);
    });
    this.http2.on('sessionError', (err) =>
      options.logger.debug({ err: err.message }, 'downstream session error'),
    );
    this.tcp = createTcpServer({ noDelay: true }, (socket) => this.accepted(socket));
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

  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Graceful close: stop accepting, send GOAWAY on every downstream session (in-flight calls go on,
   * new streams are refused), wait for them up to `graceMs`, then destroy what is left (their calls
   * are cancelled, and cancel their upstream streams).
   */
  async close(graceMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const stopped = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const socket of this.pending) socket.destroy();
    this.pending.clear();
    for (const session of this.sessions) closeGracefully(session);
    if (this.sessions.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.onSessionsGone = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const session of this.sessions) session.destroy();
    await stopped;
  }

  private accepted(socket: PendingSocket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    socket[kPending] = this;
    this.pending.add(socket);
    socket.on('error', ignoreError);
    socket.setTimeout(this.options.handshakeTimeoutMs, onPrefaceTimeout);
    socket.once('data', onFirstBytes);
    socket.once('close', () => this.pending.delete(socket));
  }

  private streamOpened(stream: ServerHttp2Stream): void {
    const session = stream.session as TrackedSession | undefined;
    const activity = session?.[kActivity];
    if (session === undefined || activity === undefined) return;
    (stream as TrackedStream)[kOwner] = session;
    activity.streams++;
    if (activity.idleTimer !== undefined) {
      clearTimeout(activity.idleTimer);
      activity.idleTimer = undefined;
    }
    // `on`, not `once`: 'close' comes once anyway, and `once` allocates a wrapper per call.
    stream.on('close', onStreamClosed);
  }

  /** @internal The first bytes of a connection: HTTP/2 preface (or its start) or not. */
  firstBytes(socket: PendingSocket, chunk: Buffer): void {
    socket[kPending] = undefined;
    this.pending.delete(socket);
    socket.setTimeout(0);
    socket.off('timeout', onPrefaceTimeout);
    socket.pause();
    const n = Math.min(chunk.length, PREFACE.length);
    if (chunk.compare(PREFACE, 0, n, 0, n) !== 0) {
      socket.end(HTTP1_REPLY);
      return;
    }
    if (this.closing) {
      socket.destroy();
      return;
    }
    // node:http2 reads bytes already buffered on the socket when it takes it over (nodejs/node#34532).
    socket.unshift(chunk);
    this.http2.emit('connection', socket);
  }

  private sessionOpened(session: TrackedSession): void {
    this.sessions.add(session);
    // The first bytes only started the preface: a peer that stops there, or never sends its SETTINGS,
    // would otherwise hold the connection forever.
    const handshake = setTimeout(onHandshakeTimeout, this.options.handshakeTimeoutMs, session);
    handshake.unref();
    session.once('remoteSettings', () => clearTimeout(handshake));
    const activity: SessionActivity = {
      streams: 0,
      idleTimer: undefined,
      idleTimeoutMs: this.options.idleTimeoutMs,
    };
    session[kActivity] = activity;
    armIdle(session, activity);
    session.on('close', () => {
      clearTimeout(handshake);
      clearTimeout(activity.idleTimer);
      this.sessions.delete(session);
      if (this.sessions.size === 0) this.onSessionsGone?.();
    });
    session.on('error', ignoreError);
    session.setLocalWindowSize(SESSION_WINDOW_BYTES);
    if (this.closing) closeGracefully(session);
  }
}
