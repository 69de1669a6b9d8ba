import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Balancer, PickContext } from '../balancer/balancer.js';
import type { Cluster } from '../cluster/cluster.js';
import type { Endpoint } from '../cluster/endpoint.js';
import { backendUnavailable, GatewayError } from '../grpc/errors.js';
import { RequestFraming } from '../grpc/framing.js';
import {
  downstreamResponseHeaders,
  downstreamTrailers,
  formatGrpcTimeout,
  parseGrpcTimeout,
  upstreamRequestHeaders,
} from '../grpc/headers.js';
import {
  endWithStatus,
  endWithTrailers,
  endWithUpstreamTrailersOnly,
  sendResponseHeaders,
} from '../grpc/respond.js';
import { Status } from '../grpc/status.js';
import { toGrpcStatus } from '../grpc/to-grpc-status.js';
import type { AccessLog } from '../observability/access-log.js';
import type { Logger } from '../observability/logger.js';
import type { Route } from '../routing/route-table.js';
import type { UpstreamSession } from '../upstream/upstream-session.js';
import { mayRetryOpening, outcomeWithoutCandidate, type RetryPolicy } from './retry.js';
import { RequestReplay } from './session-transfer.js';

/** Where a route's calls go; built once per route by the gateway. */
export interface ProxyTarget {
  readonly route: Route;
  readonly cluster: Cluster;
  readonly balancer: Balancer;
  readonly retry: RetryPolicy;
}

/** Gateway-wide settings every call reads. */
export interface ProxySettings {
  readonly maxMessageBytes: number;
  readonly maxReplayBufferBytes: number;
  readonly accessLog: AccessLog | undefined;
  readonly logger: Logger;
  /** `logger` is at debug level: per-call detail is logged. */
  readonly debug: boolean;
}

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM } = constants;

const kCall = Symbol('stickygw.call');
type DownstreamStream = ServerHttp2Stream & { [kCall]?: StreamProxy };
type UpstreamStream = ClientHttp2Stream & { [kCall]?: StreamProxy | undefined };

// Event handlers are shared module-level functions that find their call through a symbol on the
// stream: no closure is allocated per call, none per chunk. An upstream stream the call abandoned
// (cancelled, or left behind by a transfer) has its symbol cleared, so its late events are ignored.
function onDownstreamData(this: DownstreamStream, chunk: Buffer): void {
  this[kCall]?.downstreamData(chunk);
}
function onDownstreamEnd(this: DownstreamStream): void {
  this[kCall]?.downstreamEnd();
}
function onDownstreamDrain(this: DownstreamStream): void {
  this[kCall]?.downstreamDrain();
}
function onDownstreamClose(this: DownstreamStream): void {
  this[kCall]?.downstreamClose();
}
function onUpstreamResponse(this: UpstreamStream, headers: IncomingHttpHeaders, flags: number): void {
  this[kCall]?.upstreamResponse(headers, flags);
}
function onUpstreamData(this: UpstreamStream, chunk: Buffer): void {
  this[kCall]?.upstreamData(chunk);
}
function onUpstreamTrailers(this: UpstreamStream, trailers: IncomingHttpHeaders): void {
  this[kCall]?.upstreamTrailers(trailers);
}
function onUpstreamEnd(this: UpstreamStream): void {
  this[kCall]?.upstreamEnd();
}
function onUpstreamDrain(this: UpstreamStream): void {
  this[kCall]?.upstreamDrain();
}
function onUpstreamClose(this: UpstreamStream): void {
  this[kCall]?.upstreamClose(this);
}
// 'error' is always followed by 'close', where the outcome is decided; the listener keeps node from
// throwing it as unhandled.
function onStreamError(): void {}
function onDeadline(call: StreamProxy): void {
  call.deadlineExceeded();
}

/** The longest delay node's timers take (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;
/** The longest grpc-timeout forwarded upstream: whole seconds (`2147483S`) within MAX_TIMER_MS. */
const MAX_FORWARDED_TIMEOUT_MS = 2_147_483_000;

function deadlineError(): GatewayError {
  return new GatewayError(Status.DEADLINE_EXCEEDED, 'deadline_exceeded', 'deadline exceeded');
}

/**
 * Moves one call between its downstream stream and an upstream stream (REFERENCE.md 6.3 steps 4-7,
 * 6.6, 6.10-6.12): picks endpoints through the route's balancer, opens upstream streams with the
 * retry policy, relays headers, DATA with backpressure both ways, half-close, trailers (or a
 * trailers-only answer) unchanged, propagates cancellation both ways, enforces `grpc-timeout`, and
 * on a transport failure mid-call transfers the call to another endpoint by replaying its request.
 *
 * Backpressure: a `write()` that returns false pauses the other side until that stream's 'drain'.
 * The two flags below belong to the call, not to an upstream stream, so pausing survives a transfer
 * (the stable controller of undici's RetryController).
 */
export class StreamProxy implements PickContext {
  private up: UpstreamStream | undefined;
  private upEndpoint: Endpoint | undefined;
  private upSession: UpstreamSession | undefined;
  private upHttpSession: ClientHttp2Session | undefined;
  /** The call's outcome is decided (a status was sent, the upstream's trailers relayed, or it was cancelled). */
  private finished = false;
  private halfClosed = false;
  private responseDelivered = false;
  /** Downstream paused until the upstream drains. */
  private waitingUpstreamDrain = false;
  /** Upstream paused until the downstream drains. */
  private waitingDownstreamDrain = false;
  private downstreamAttached = false;
  /**
   * The current upstream stream's trailers, held until its data has all been read: node emits
   * 'trailers' as the frame arrives, while DATA before it may still sit in the paused readable.
   */
  private pendingTrailers: IncomingHttpHeaders | undefined;
  /** The current upstream stream's readable side has ended ('end': every DATA byte was consumed). */
  private upstreamReadEnded = false;
  private readonly framing: RequestFraming;
  private readonly replay: RequestReplay | undefined;
  private readonly startedAt = performance.now();
  private readonly deadlineAt: number;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private attemptsLeft = 0;
  private streamsOpened = 0;
  private transfers = 0;
  private transportFailures = 0;
  private grpcStatus = -1;
  private reason: string | undefined;

  constructor(
    private readonly down: ServerHttp2Stream,
    /** The client's request headers, forwarded as they are. */
    readonly headers: IncomingHttpHeaders,
    private readonly path: string,
    private readonly target: ProxyTarget,
    private readonly settings: ProxySettings,
  ) {
    const encoding = headers['grpc-encoding'];
    this.framing = new RequestFraming(
      settings.maxMessageBytes,
      typeof encoding === 'string' && encoding !== '' && encoding !== 'identity',
    );
    this.replay =
      target.retry.maxTransfers > 0 ? new RequestReplay(settings.maxReplayBufferBytes) : undefined;
    const timeoutMs = parseGrpcTimeout(headers['grpc-timeout'] as string | undefined);
    this.deadlineAt = timeoutMs === undefined ? 0 : this.startedAt + timeoutMs;
    if (timeoutMs !== undefined && timeoutMs > 0) this.armDeadline(timeoutMs);
  }

  /** Takes over the downstream stream and opens the first upstream stream. */
  start(): void {
    const down = this.down as DownstreamStream;
    down[kCall] = this;
    down.on('close', onDownstreamClose);
    down.on('error', onStreamError);
    // A zero grpc-timeout has expired on arrival: a timer would race a fast upstream's answer.
    if (this.deadlineAt !== 0 && this.deadlineAt <= this.startedAt) {
      this.fail(deadlineError());
      return;
    }
    this.beginOpening();
  }

  // ---- opening upstream streams (REFERENCE.md 6.11) ----

  private beginOpening(): void {
    this.attemptsLeft = this.target.retry.attemptsPerOpening;
    this.nextAttempt();
  }

  /** One attempt: pick, then open a stream synchronously on an open session, or connect first. */
  private nextAttempt(): void {
    if (this.finished) return;
    this.attemptsLeft--;
    const cluster = this.target.cluster;
    const pick = this.target.balancer.pick(cluster.snapshot, this);
    if (pick.type === 'fail') {
      this.fail(outcomeWithoutCandidate(pick.error, this.transportFailures));
      return;
    }
    const endpoint = pick.endpoint;
    const session = cluster.session(endpoint);
    const open = session.openSession;
    if (open !== undefined) {
      this.openStream(endpoint, session, open);
      return;
    }
    session.connect().then(
      (connected) => {
        if (!this.finished) this.openStream(endpoint, session, connected);
      },
      (err: unknown) => this.attemptFailed(endpoint, err),
    );
  }

  /** A failure before the stream was open (connect refused or timed out, session gone). */
  private attemptFailed(endpoint: Endpoint, err: unknown): void {
    if (this.finished) return;
    const error =
      err instanceof GatewayError && err.isTransportFailure
        ? err
        : backendUnavailable('upstream_connect_failed', err);
    this.transportFailures++;
    this.target.cluster.reportFailure(endpoint, error);
    if (this.settings.debug) {
      this.settings.logger.debug(
        { method: this.path, endpoint: endpoint.id, reason: error.reason, err: error.message },
        'upstream attempt failed',
      );
    }
    if (mayRetryOpening(error, this.attemptsLeft)) this.nextAttempt();
    else this.fail(backendUnavailable('retries_exhausted', error));
  }

  private openStream(endpoint: Endpoint, session: UpstreamSession, httpSession: ClientHttp2Session): void {
    let stream: UpstreamStream;
    try {
      stream = session.request(httpSession, upstreamRequestHeaders(this.headers, this.remainingTimeout()));
    } catch (err) {
      this.attemptFailed(endpoint, err);
      return;
    }
    this.streamsOpened++;
    this.up = stream;
    this.pendingTrailers = undefined;
    this.upstreamReadEnded = false;
    this.upEndpoint = endpoint;
    this.upSession = session;
    this.upHttpSession = httpSession;
    stream[kCall] = this;
    stream.on('response', onUpstreamResponse);
    stream.on('data', onUpstreamData);
    stream.on('trailers', onUpstreamTrailers);
    stream.on('end', onUpstreamEnd);
    stream.on('close', onUpstreamClose);
    stream.on('error', onStreamError);
    if (this.waitingDownstreamDrain) stream.pause();
    if (!this.downstreamAttached) {
      this.downstreamAttached = true;
      const down = this.down;
      down.on('data', onDownstreamData);
      down.on('end', onDownstreamEnd);
      return;
    }
    this.replayInto(stream);
  }

  /** After a transfer: the kept request bytes, the half-close if the client sent it, then live pumping. */
  private replayInto(stream: UpstreamStream): void {
    let writable = true;
    for (const chunk of this.replay?.chunks ?? []) writable = stream.write(chunk);
    if (this.halfClosed) stream.end();
    if (!writable) this.awaitUpstreamDrain(stream);
    else if (!this.halfClosed) this.down.resume();
  }

  /** The client's grpc-timeout, or what is left of it when time has passed (retries, transfers, connects). */
  private remainingTimeout(): string | undefined {
    if (this.deadlineAt === 0) return undefined;
    const now = performance.now();
    const left = this.deadlineAt - now;
    // Capped: grpc-js servers (the workers, auth) arm one timer per call and fire at once past
    // 2^31 - 1 ms, so a 30-day deadline would fail there immediately.
    if (left > MAX_FORWARDED_TIMEOUT_MS) return formatGrpcTimeout(MAX_FORWARDED_TIMEOUT_MS);
    if (now - this.startedAt < 1) return undefined;
    return formatGrpcTimeout(left);
  }

  // ---- client → upstream ----

  downstreamData(chunk: Buffer): void {
    if (this.finished) return;
    const oversize = this.framing.push(chunk);
    if (oversize >= 0) {
      this.fail(
        new GatewayError(
          Status.RESOURCE_EXHAUSTED,
          'message_too_large',
          `request message of ${oversize} bytes exceeds the limit of ${this.settings.maxMessageBytes} bytes`,
        ),
      );
      return;
    }
    const violation = this.framing.violation;
    if (violation !== undefined) {
      this.fail(new GatewayError(Status.INTERNAL, 'malformed_request', violation));
      return;
    }
    this.replay?.record(chunk, this.framing, this.responseDelivered);
    const up = this.up;
    // Without an upstream (a transfer is opening) the chunk is in the replay buffer; the downstream
    // was paused, so this happens at most for a chunk already in flight.
    if (up !== undefined && !up.write(chunk)) this.awaitUpstreamDrain(up);
  }

  /**
   * Pauses the client until `up` drains. 'drain' listeners are added only here, when a write was
   * refused, not on every stream: most calls never need one.
   */
  private awaitUpstreamDrain(up: UpstreamStream): void {
    if (!this.waitingUpstreamDrain) {
      this.waitingUpstreamDrain = true;
      up.once('drain', onUpstreamDrain);
    }
    this.down.pause();
  }

  downstreamEnd(): void {
    this.halfClosed = true;
    if (this.finished) return;
    if (!this.framing.atMessageBoundary) {
      // END_STREAM in the middle of a message (PROTOCOL-HTTP2.md): a protocol error of the client.
      // Left to the upstream it may be mistaken for "no message" (grpc-js answers UNIMPLEMENTED).
      this.fail(
        new GatewayError(Status.INTERNAL, 'malformed_request', 'request ended in the middle of a message'),
      );
      return;
    }
    this.up?.end();
  }

  upstreamDrain(): void {
    if (!this.waitingUpstreamDrain) return;
    this.waitingUpstreamDrain = false;
    this.down.resume();
  }

  // ---- upstream → client ----

  upstreamResponse(headers: IncomingHttpHeaders, flags: number): void {
    if (this.finished) return;
    if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0) {
      // Trailers-only: the upstream answered with a status and nothing else.
      this.finished = true;
      this.grpcStatus = Number(headers['grpc-status'] ?? -1);
      endWithUpstreamTrailersOnly(this.down, headers);
      this.releaseDownstream();
      return;
    }
    sendResponseHeaders(this.down, downstreamResponseHeaders(headers));
  }

  upstreamData(chunk: Buffer): void {
    if (this.finished) return;
    if (!this.responseDelivered) {
      this.responseDelivered = true;
      this.replay?.responseStarted(this.framing);
    }
    if (!this.down.write(chunk)) {
      if (!this.waitingDownstreamDrain) {
        this.waitingDownstreamDrain = true;
        this.down.once('drain', onDownstreamDrain);
      }
      this.up?.pause();
    }
  }

  downstreamDrain(): void {
    if (!this.waitingDownstreamDrain) return;
    this.waitingDownstreamDrain = false;
    this.up?.resume();
  }

  upstreamTrailers(trailers: IncomingHttpHeaders): void {
    if (this.finished) return;
    if (this.upstreamReadEnded) this.relayTrailers(trailers);
    else this.pendingTrailers = trailers;
  }

  /** Every response byte of the upstream stream has been handed on: the held trailers may follow. */
  upstreamEnd(): void {
    this.upstreamReadEnded = true;
    const trailers = this.pendingTrailers;
    if (trailers !== undefined && !this.finished) this.relayTrailers(trailers);
  }

  private relayTrailers(trailers: IncomingHttpHeaders): void {
    this.pendingTrailers = undefined;
    this.finished = true;
    this.grpcStatus = Number(trailers['grpc-status'] ?? -1);
    endWithTrailers(this.down, downstreamTrailers(trailers));
    this.releaseDownstream();
  }

  /** The upstream stream closed: after its trailers that is the normal end, otherwise a failure. */
  upstreamClose(stream: UpstreamStream): void {
    // Trailers still held here mean the stream was reset before its data was all read (node only
    // destroys an unread stream for an error code): that answer may be incomplete, so it is not
    // relayed; the call fails over or fails like any reset.
    this.detachUpstream();
    if (this.finished) return;
    const httpSession = this.upHttpSession;
    const sessionAlive = httpSession !== undefined && !httpSession.destroyed && !httpSession.closed;
    if (stream.rstCode === NGHTTP2_CANCEL && sessionAlive) {
      // The upstream cancelled the call on a healthy connection: an answer, not a failure
      // (grpc-js maps CANCEL to CANCELLED); the client sees the same reset.
      this.finished = true;
      this.grpcStatus = Status.CANCELLED;
      this.reason = 'upstream_cancelled';
      this.down.close(NGHTTP2_CANCEL);
      return;
    }
    this.streamFailed(
      backendUnavailable(
        'upstream_reset',
        new Error(`upstream stream closed without trailers (rst code ${stream.rstCode})`),
        this.framing.messagesStarted > 0,
      ),
    );
  }

  /**
   * A transport failure after the stream was open (REFERENCE.md 6.12): the endpoint is reported
   * (ejected on failover clusters), then the call moves to another endpoint if the policy and its
   * shape allow it, else it ends with UNAVAILABLE `backend service unavailable`.
   */
  private streamFailed(error: GatewayError): void {
    const endpoint = this.upEndpoint;
    this.transportFailures++;
    if (endpoint !== undefined) this.target.cluster.reportFailure(endpoint, error);
    const replay = this.replay;
    const canTransfer =
      replay !== undefined &&
      this.transfers < this.target.retry.maxTransfers &&
      replay.transferable(this.framing, this.halfClosed, this.responseDelivered) &&
      !this.down.destroyed &&
      !this.down.closed;
    if (this.settings.debug) {
      this.settings.logger.debug(
        { method: this.path, endpoint: endpoint?.id, reason: error.reason, transfer: canTransfer },
        'upstream failed mid-call',
      );
    }
    if (!canTransfer) {
      this.fail(replay === undefined ? error : backendUnavailable('not_transferable', error));
      return;
    }
    this.transfers++;
    this.waitingUpstreamDrain = false;
    this.down.pause();
    this.beginOpening();
  }

  // ---- ends ----

  /** Node fires longer timers at once (TimeoutOverflowWarning): long deadlines are reached in steps. */
  private armDeadline(ms: number): void {
    this.deadlineTimer = setTimeout(onDeadline, Math.min(ms, MAX_TIMER_MS), this);
  }

  deadlineExceeded(): void {
    this.deadlineTimer = undefined;
    const left = this.deadlineAt - performance.now();
    if (left > 1_000) {
      this.armDeadline(left);
      return;
    }
    this.fail(deadlineError());
  }

  /** Ends the call with a status of the gateway's own, cancelling the upstream stream if any. */
  private fail(error: GatewayError): void {
    if (this.finished) return;
    this.finished = true;
    const status = toGrpcStatus(error);
    this.grpcStatus = status.code;
    this.reason = error.reason;
    this.cancelUpstream();
    endWithStatus(this.down, status.code, status.message);
    this.releaseDownstream();
  }

  /** The downstream stream is gone: the normal end of a call, or the client cancelled it. */
  downstreamClose(): void {
    (this.down as DownstreamStream)[kCall] = undefined;
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    if (!this.finished) {
      // Client cancellation (RST_STREAM, or its connection went away): cancel the upstream; this is
      // not a backend failure (REFERENCE.md 6.10, rewrite).
      this.finished = true;
      this.grpcStatus = Status.CANCELLED;
      this.reason = 'client_cancelled';
      this.cancelUpstream();
    }
    this.settings.accessLog?.record({
      method: this.path,
      grpcStatus: this.grpcStatus,
      durationMs: Math.round((performance.now() - this.startedAt) * 1000) / 1000,
      cluster: this.target.cluster.id,
      endpoint: this.upEndpoint?.id,
      attempts: this.streamsOpened,
      transfers: this.transfers,
      reason: this.reason,
    });
  }

  /**
   * After the outcome is sent, request DATA still arriving is read and dropped, so a client that
   * keeps streaming is not stalled by flow control before it sees the status.
   */
  private releaseDownstream(): void {
    if (this.deadlineTimer !== undefined) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
    }
    if (this.downstreamAttached) this.down.resume();
  }

  private cancelUpstream(): void {
    const up = this.up;
    if (up === undefined) return;
    this.detachUpstream();
    if (!up.closed && !up.destroyed) up.close(NGHTTP2_CANCEL);
  }

  private detachUpstream(): void {
    const up = this.up;
    if (up === undefined) return;
    up[kCall] = undefined;
    this.up = undefined;
    this.upSession?.release();
  }
}
