import type { Balancer, PickContext, SettledPick } from '../balancer/balancer.js';
import type { Cluster } from '../cluster/cluster.js';
import type { Endpoint } from '../cluster/endpoint.js';
import { backendUnavailable, GatewayError } from '../grpc/gateway-error.js';
import {
  fieldValue,
  responseFieldsForClient,
  upstreamRequestFields,
  withoutFields,
} from '../grpc/headers.js';
import { MessageCounter } from '../grpc/message-counter.js';
import { RequestFraming } from '../grpc/request-framing.js';
import { RequestHeaders } from '../grpc/request-headers.js';
import {
  endWithStatus,
  endWithTrailers,
  endWithUpstreamTrailersOnly,
  sendResponseHeaders,
} from '../grpc/respond.js';
import { Status } from '../grpc/status.js';
import { statusFromRstCode, toGrpcStatus } from '../grpc/to-grpc-status.js';
import type { Http2Connection } from '../h2/connection.js';
import type { HeaderFields, Http2Stream, StreamHandler } from '../h2/stream.js';
import type { AccessLog } from '../observability/access-log.js';
import type { Logger } from '../observability/logger.js';
import type { MethodMetrics, UpstreamMetrics } from '../observability/metrics.js';
import type { Route } from '../routing/route-table.js';
import type { UpstreamConnection } from '../upstream/upstream-connection.js';
import { Deadline, type DeadlineOwner } from './deadline.js';
import { RequestReplay } from './request-replay.js';
import { mayRetryOpening, outcomeWithoutCandidate, type RetryPolicy } from './retry-policy.js';
import { type AttemptOwner, UpstreamAttempt } from './upstream-attempt.js';

/** Where a route's calls go; built once per route by the gateway. */
export interface ProxyTarget {
  readonly route: Route;
  readonly cluster: Cluster;
  readonly balancer: Balancer;
  readonly retry: RetryPolicy;
  /** Request headers the backend does not get (`strippedRequestHeaders` of the route); undefined: none. */
  readonly strippedRequestHeaders: ReadonlySet<string> | undefined;
  /** The cluster's upstream series; undefined when metrics are off. */
  readonly metrics?: UpstreamMetrics | undefined;
}

/** Gateway-wide settings every call reads. */
export interface ProxySettings {
  /** Largest request message; 0 = no limit (messages are bounded by flow control only). */
  readonly maxMessageBytes: number;
  readonly maxReplayBufferBytes: number;
  readonly accessLog: AccessLog | undefined;
  readonly logger: Logger;
  /** `logger` is at debug level: per-call detail is logged. */
  readonly debug: boolean;
}

/** What the single message of a unary or server-streaming call may cost in replay memory by default. */
const DEFAULT_SINGLE_MESSAGE_REPLAY_BYTES = 4 * 1024 * 1024;

/**
 * - `opening`: picking endpoints and opening an upstream stream (the first one, or after a transfer);
 *   request bytes wait (not credited, so the client's window bounds them).
 * - `relaying`: an upstream stream is open; bytes flow both ways.
 * - `finished`: the outcome is decided and sent (or the client went away); late events are ignored
 *   and request bytes still arriving are dropped.
 */
export type CallPhase = 'opening' | 'relaying' | 'finished';

/** How a call ends; `finish` is the one place that sends it. */
type Outcome =
  | { readonly kind: 'status'; readonly error: GatewayError }
  | { readonly kind: 'trailers'; readonly fields: HeaderFields; readonly trailersOnly: boolean }
  | { readonly kind: 'upstream-cancelled' }
  | { readonly kind: 'client-cancelled' };

function deadlineError(): GatewayError {
  return new GatewayError(Status.DEADLINE_EXCEEDED, 'deadline_exceeded', 'deadline exceeded');
}

/**
 * One client call through the gateway (REFERENCE.md 6.3 steps 4-7, 6.6, 6.10-6.12), grpc-js'
 * RetryingCall shape: it owns the downstream stream, runs the attempt loop (pick through the route's
 * balancer, open an `UpstreamAttempt`), relays headers, DATA and trailers (or a trailers-only answer)
 * unchanged, propagates cancellation both ways, enforces `grpc-timeout`, and on a transport failure
 * mid-call transfers the call to another endpoint by replaying its request.
 *
 * Flow control is the backpressure: a DATA chunk is credited back to the stream it came from only
 * once the other side has written it, so each direction holds at most one stream window, and a slow
 * reader slows only its own call. The credit bookkeeping belongs to the call, not to an attempt, so
 * it survives a transfer (the stable controller of undici's RetryController).
 */
export class ProxyCall implements StreamHandler, AttemptOwner, PickContext, DeadlineOwner {
  phase: CallPhase = 'opening';
  attempt: UpstreamAttempt | undefined;
  /** The client sent END_STREAM. */
  private halfClosed = false;
  /** A response message reached the client (no multi-message replay after this). */
  private responseDelivered = false;
  /** Request chunks received while no upstream stream was open, not yet written anywhere. */
  private unsent: Buffer[] | undefined;
  private readonly framing: RequestFraming;
  private readonly replay: RequestReplay | undefined;
  private readonly startedAt = performance.now();
  private readonly deadline: Deadline | undefined;
  private headersView: RequestHeaders | undefined;
  private attemptsLeft = 0;
  private streamsOpened = 0;
  private transfers = 0;
  private transportFailures = 0;
  private grpcStatus = -1;
  private reason: string | undefined;
  private lastEndpoint: Endpoint | undefined;
  /** `fields` without the headers the route strips: what every attempt sends upstream. */
  private readonly forwardedFields: HeaderFields;
  /** Response messages, counted only when metrics are on. */
  private readonly responses: MessageCounter | undefined;

  constructor(
    private readonly down: Http2Stream,
    /** The client's request header list, forwarded as it is. */
    private readonly fields: HeaderFields,
    private readonly path: string,
    private readonly target: ProxyTarget,
    private readonly settings: ProxySettings,
    endStream: boolean,
    /** The headers' view when the pipeline made one already (for its filters). */
    headers: RequestHeaders | undefined,
    /** The method's series; undefined when metrics are off. */
    private readonly calls: MethodMetrics | undefined,
  ) {
    this.responses = calls === undefined ? undefined : new MessageCounter();
    this.headersView = headers;
    const stripped = target.strippedRequestHeaders;
    this.forwardedFields = stripped === undefined ? fields : withoutFields(fields, stripped);
    const encoding = fieldValue(fields, 'grpc-encoding');
    const maxMessage = settings.maxMessageBytes > 0 ? settings.maxMessageBytes : Number.POSITIVE_INFINITY;
    this.framing = new RequestFraming(
      maxMessage,
      encoding !== undefined && encoding !== '' && encoding !== 'identity',
    );
    this.replay =
      target.retry.maxTransfers > 0
        ? new RequestReplay(
            settings.maxReplayBufferBytes,
            settings.maxMessageBytes > 0 ? settings.maxMessageBytes : DEFAULT_SINGLE_MESSAGE_REPLAY_BYTES,
          )
        : undefined;
    this.deadline = Deadline.of(this.startedAt, fieldValue(fields, 'grpc-timeout'), this);
    this.halfClosed = endStream;
  }

  /** The request headers' view, made on first use (sticky balancers). */
  get headers(): RequestHeaders {
    this.headersView ??= new RequestHeaders(this.fields);
    return this.headersView;
  }

  /** Takes over the downstream stream and opens the first upstream stream. */
  start(): void {
    this.down.handler = this;
    this.calls?.started();
    const deadline = this.deadline;
    if (deadline !== undefined) {
      if (deadline.expiredOnArrival) {
        this.finish({ kind: 'status', error: deadlineError() });
        return;
      }
      deadline.arm();
    }
    this.beginOpening();
  }

  // ---- opening upstream streams (REFERENCE.md 6.11) ----

  private beginOpening(): void {
    this.phase = 'opening';
    this.attemptsLeft = this.target.retry.attemptsPerOpening;
    this.nextAttempt();
  }

  /** One attempt: pick, then open a stream synchronously on an open connection, or connect first. */
  private nextAttempt(): void {
    if (this.phase === 'finished') return;
    this.attemptsLeft--;
    const cluster = this.target.cluster;
    const pick = this.target.balancer.pick(cluster.snapshot, this);
    if (pick.type === 'queue') {
      pick.pending.then((settled) => this.picked(settled));
      return;
    }
    this.picked(pick);
  }

  private picked(pick: SettledPick): void {
    if (this.phase === 'finished') return;
    const cluster = this.target.cluster;
    if (pick.type === 'fail') {
      this.finish({ kind: 'status', error: outcomeWithoutCandidate(pick.error, this.transportFailures) });
      return;
    }
    const endpoint = pick.endpoint;
    const upstream = cluster.connection(endpoint);
    const open = upstream.openConnection;
    if (open !== undefined) {
      this.openAttempt(endpoint, upstream, open);
      return;
    }
    upstream.connect().then(
      (connection) => {
        if (this.phase !== 'finished') this.openAttempt(endpoint, upstream, connection);
      },
      (err: unknown) => {
        this.target.metrics?.connectFailure();
        this.attemptFailed(endpoint, err);
      },
    );
  }

  /** A failure before the stream was open (connect refused or timed out, connection gone). */
  private attemptFailed(endpoint: Endpoint, err: unknown): void {
    if (this.phase === 'finished') return;
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
    if (mayRetryOpening(error, this.attemptsLeft)) {
      this.target.metrics?.retry();
      this.nextAttempt();
    } else this.finish({ kind: 'status', error: backendUnavailable('retries_exhausted', error) });
  }

  private openAttempt(endpoint: Endpoint, upstream: UpstreamConnection, connection: Http2Connection): void {
    const attempt = new UpstreamAttempt(this, endpoint, upstream, connection);
    const transfer = this.streamsOpened > 0;
    if (transfer && this.replay?.isDropped === true) {
      // Request bytes that arrived during the transfer took the buffer over its bound.
      this.finish({ kind: 'status', error: backendUnavailable('not_transferable') });
      return;
    }
    const body = transfer ? (this.replay?.chunks ?? []) : this.unsent;
    const nothingToSend = this.halfClosed && (body === undefined || body.length === 0);
    let stream: Http2Stream;
    try {
      stream = attempt.open(
        upstreamRequestFields(this.forwardedFields, this.deadline?.forwardedTimeout()),
        nothingToSend,
      );
    } catch (err) {
      this.attemptFailed(endpoint, err);
      return;
    }
    this.streamsOpened++;
    this.target.metrics?.request();
    this.attempt = attempt;
    this.lastEndpoint = endpoint;
    this.phase = 'relaying';
    this.unsent = undefined;
    if (body !== undefined) {
      for (const chunk of body) {
        const sent = stream.write(chunk);
        if (sent > 0) this.down.credit(sent);
      }
    }
    if (this.halfClosed && !nothingToSend) stream.end();
  }

  // ---- client → upstream (the downstream stream's handler) ----

  onHeaders(): void {}

  onData(down: Http2Stream, chunk: Buffer): void {
    if (this.phase === 'finished') {
      down.credit(chunk.length);
      return;
    }
    const oversize = this.framing.push(chunk);
    if (oversize >= 0) {
      this.finish({
        kind: 'status',
        error: new GatewayError(
          Status.RESOURCE_EXHAUSTED,
          'message_too_large',
          `request message of ${oversize} bytes exceeds the limit of ${this.settings.maxMessageBytes} bytes`,
        ),
      });
      down.credit(chunk.length);
      return;
    }
    const violation = this.framing.violation;
    if (violation !== undefined) {
      this.finish({
        kind: 'status',
        error: new GatewayError(Status.INTERNAL, 'malformed_request', violation),
      });
      down.credit(chunk.length);
      return;
    }
    this.replay?.record(chunk, this.framing, this.responseDelivered);
    const up = this.attempt?.stream;
    if (this.phase === 'relaying' && up !== undefined) {
      const sent = up.write(chunk);
      if (sent > 0) down.credit(sent);
      return;
    }
    // Opening: kept until a stream is open (the replay has it for a transfer; `unsent` for the first).
    if (this.streamsOpened > 0) return;
    if (this.unsent === undefined) this.unsent = [chunk];
    else this.unsent.push(chunk);
  }

  onTrailers(): void {
    // gRPC clients send no trailers; the END_STREAM they carry is handled by onEnd.
  }

  onEnd(): void {
    this.halfClosed = true;
    if (this.phase === 'finished') return;
    if (!this.framing.atMessageBoundary) {
      // END_STREAM in the middle of a message (PROTOCOL-HTTP2.md): a protocol error of the client.
      // Left to the upstream it may be mistaken for "no message" (grpc-js answers UNIMPLEMENTED).
      this.finish({
        kind: 'status',
        error: new GatewayError(
          Status.INTERNAL,
          'malformed_request',
          'request ended in the middle of a message',
        ),
      });
      return;
    }
    if (this.phase === 'relaying') this.attempt?.stream?.end();
  }

  /** Response bytes queued towards the client have left: the upstream may send that much more. */
  onWritten(_down: Http2Stream, bytes: number): void {
    this.attempt?.stream?.credit(bytes);
  }

  /** The downstream stream is gone: the normal end of a call, or the client cancelled it. */
  onClose(): void {
    if (this.phase !== 'finished') this.finish({ kind: 'client-cancelled' });
    const elapsedMs = performance.now() - this.startedAt;
    this.calls?.handled(
      this.grpcStatus,
      elapsedMs / 1000,
      this.framing.messagesStarted,
      this.responses?.count ?? 0,
    );
    this.settings.accessLog?.record({
      method: this.path,
      grpcStatus: this.grpcStatus,
      durationMs: Math.round(elapsedMs * 1000) / 1000,
      cluster: this.target.cluster.id,
      endpoint: this.lastEndpoint?.id,
      attempts: this.streamsOpened,
      transfers: this.transfers,
      reason: this.reason,
    });
  }

  // ---- upstream → client (the current attempt's events) ----

  upstreamHeaders(attempt: UpstreamAttempt, upstreamFields: HeaderFields, endStream: boolean): void {
    if (this.phase === 'finished') return;
    // The instance answered: whatever grpc-status follows is the application's, a transport success.
    this.target.cluster.reportSuccess?.(attempt.endpoint);
    const fields = responseFieldsForClient(upstreamFields);
    if (endStream) {
      // Trailers-only: the upstream answered with a status and nothing else.
      this.finish({ kind: 'trailers', fields, trailersOnly: true });
      return;
    }
    sendResponseHeaders(this.down, fields);
  }

  upstreamData(attempt: UpstreamAttempt, data: Buffer): void {
    const up = attempt.stream as Http2Stream;
    if (this.phase === 'finished') {
      up.credit(data.length);
      return;
    }
    if (!this.responseDelivered) {
      this.responseDelivered = true;
      this.replay?.responseStarted(this.framing);
    }
    this.responses?.push(data);
    const sent = this.down.write(data);
    if (sent > 0) up.credit(sent);
  }

  upstreamTrailers(_attempt: UpstreamAttempt, fields: HeaderFields): void {
    if (this.phase !== 'finished') {
      this.finish({ kind: 'trailers', fields: responseFieldsForClient(fields), trailersOnly: false });
    }
  }

  /** Request bytes queued towards the upstream have left: the client may send that much more. */
  upstreamWritten(_attempt: UpstreamAttempt, bytes: number): void {
    this.down.credit(bytes);
  }

  /** The upstream stream closed: after its answer that is the normal end, otherwise a failure. */
  upstreamClosed(attempt: UpstreamAttempt, code: number, remote: boolean): void {
    this.attempt = undefined;
    if (this.phase === 'finished' || attempt.answered) return;
    const connectionAlive = attempt.connection.state !== 'closed';
    if (remote && connectionAlive && statusFromRstCode(code) === Status.CANCELLED) {
      // The upstream cancelled the call on a healthy connection: an answer, not a failure
      // (grpc-js maps CANCEL to CANCELLED); the client sees the same reset.
      this.finish({ kind: 'upstream-cancelled' });
      return;
    }
    this.streamFailed(
      attempt.endpoint,
      backendUnavailable(
        'upstream_reset',
        new Error(`upstream stream closed without trailers (rst code ${code})`),
        this.framing.messagesStarted > 0,
      ),
    );
  }

  /**
   * A transport failure after the stream was open (REFERENCE.md 6.12): the endpoint is reported
   * (ejected on failover clusters), then the call moves to another endpoint if the policy and its
   * shape allow it, else it ends with UNAVAILABLE `backend service unavailable`.
   */
  private streamFailed(endpoint: Endpoint, error: GatewayError): void {
    this.transportFailures++;
    this.target.cluster.reportFailure(endpoint, error);
    const replay = this.replay;
    const canTransfer =
      replay !== undefined &&
      this.transfers < this.target.retry.maxTransfers &&
      replay.transferable(this.framing, this.halfClosed, this.responseDelivered) &&
      !this.down.closed;
    if (this.settings.debug) {
      this.settings.logger.debug(
        { method: this.path, endpoint: endpoint.id, reason: error.reason, transfer: canTransfer },
        'upstream failed mid-call',
      );
    }
    if (replay !== undefined) this.target.metrics?.transfer(canTransfer ? 'transferred' : 'not_transferable');
    if (!canTransfer) {
      this.finish({
        kind: 'status',
        error: replay === undefined ? error : backendUnavailable('not_transferable', error),
      });
      return;
    }
    this.transfers++;
    this.beginOpening();
  }

  // ---- the end ----

  deadlineExpired(): void {
    this.finish({ kind: 'status', error: deadlineError() });
  }

  /** The one place a call's outcome is decided and sent; the first outcome wins. */
  private finish(outcome: Outcome): void {
    if (this.phase === 'finished') return;
    this.phase = 'finished';
    this.deadline?.clear();
    this.unsent = undefined;
    const attempt = this.attempt;
    this.attempt = undefined;
    const down = this.down;
    if (outcome.kind === 'status' || outcome.kind === 'trailers') {
      // Request bytes still held (queued towards an upstream that will never take them) go back, and
      // a client still sending is stopped once the answer is out.
      down.credit(down.held);
      down.stopRequestWhenEnded();
    }
    switch (outcome.kind) {
      case 'status': {
        const status = toGrpcStatus(outcome.error);
        this.grpcStatus = status.code;
        this.reason = outcome.error.reason;
        attempt?.cancel();
        endWithStatus(down, status.code, status.message);
        return;
      }
      case 'trailers':
        this.grpcStatus = Number(fieldValue(outcome.fields, 'grpc-status') ?? -1);
        if (outcome.trailersOnly) endWithUpstreamTrailersOnly(down, outcome.fields);
        else endWithTrailers(down, outcome.fields);
        // The upstream is done; a request side still open is closed for it.
        if (attempt?.stream !== undefined && !attempt.stream.localEnded) attempt.cancel();
        return;
      case 'upstream-cancelled':
        this.grpcStatus = Status.CANCELLED;
        this.reason = 'upstream_cancelled';
        down.reset();
        return;
      case 'client-cancelled':
        // Client cancellation (RST_STREAM, or its connection went away): not a backend failure
        // (REFERENCE.md 6.10, rewrite).
        this.grpcStatus = Status.CANCELLED;
        this.reason = 'client_cancelled';
        attempt?.cancel();
        return;
    }
  }
}
