import { GatewayMessage, Status, type StatusCode } from './status.js';

/**
 * Stable tags for every failure the gateway handles. Retry, transfer and ejection decisions read
 * these tags (and `where`), never message strings.
 */
export type GatewayErrorReason =
  /** No route matched and `default.action` is `error`. */
  | 'no_route'
  /** A header filter rejected the call (auth). */
  | 'filter_rejected'
  /** The sticky route's header is missing or empty. */
  | 'missing_sticky_key'
  /** The cluster has no endpoint the balancer may give this call (empty list, all bound). */
  | 'no_free_endpoint'
  /** A new sticky session could not be bound: the shared session store did not answer. */
  | 'session_store_unavailable'
  /** The shared session store binds the session to an instance this gateway does not list. */
  | 'bound_endpoint_unlisted'
  /** TCP connect or the HTTP/2 handshake with the upstream failed. */
  | 'upstream_connect_failed'
  /** Opening an upstream stream took longer than RETRY_TIMEOUT_MS. */
  | 'upstream_open_timeout'
  /** The upstream stream ended without trailers (RST_STREAM, connection closed, GOAWAY above lastStreamID). */
  | 'upstream_reset'
  /** The upstream reset the stream with CANCEL while its connection stayed healthy. */
  | 'upstream_cancelled'
  /** Every attempt allowed by the retry policy failed on the transport. */
  | 'retries_exhausted'
  /** The upstream failed mid-call and the call cannot be replayed elsewhere. */
  | 'not_transferable'
  /** The client's grpc-timeout passed. */
  | 'deadline_exceeded'
  /** A request message is larger than MAX_MESSAGE_BYTES. */
  | 'message_too_large'
  /** The request broke the gRPC framing (compressed flag, a message cut off by END_STREAM). */
  | 'malformed_request'
  /** The request's header list is over the limit the gateway announces. */
  | 'headers_too_large'
  /** The gateway is shutting down. */
  | 'shutting_down'
  /** An invariant broke (a bug). */
  | 'internal';

/** Where a failure was detected: by the gateway on the transport (`local`) or a status sent by the service. */
export type FailureOrigin = 'local' | 'upstream';

export interface GatewayErrorOptions {
  readonly where?: FailureOrigin;
  /** True when request bytes had already been written upstream when the failure happened. */
  readonly whenBytesWritten?: boolean;
  readonly cause?: unknown;
}

/** The one error type inside the gateway: a gRPC status plus the tags that drive retry and ejection. */
export class GatewayError extends Error {
  readonly code: StatusCode;
  readonly reason: GatewayErrorReason;
  readonly where: FailureOrigin;
  readonly whenBytesWritten: boolean;

  constructor(
    code: StatusCode,
    reason: GatewayErrorReason,
    message: string,
    options: GatewayErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.reason = reason;
    this.where = options.where ?? 'local';
    this.whenBytesWritten = options.whenBytesWritten ?? false;
  }

  /**
   * A backend FAILURE in the sense of REFERENCE.md 6.10 (rewrite): a transport-level problem with one
   * endpoint. Only these eject an instance and justify another attempt; an upstream status never does.
   */
  get isTransportFailure(): boolean {
    return (
      this.where === 'local' &&
      (this.reason === 'upstream_connect_failed' ||
        this.reason === 'upstream_open_timeout' ||
        this.reason === 'upstream_reset')
    );
  }
}

/** UNAVAILABLE `backend service unavailable`, the client-visible face of every transport failure. */
export function backendUnavailable(
  reason: GatewayErrorReason,
  cause?: unknown,
  whenBytesWritten = false,
): GatewayError {
  return new GatewayError(Status.UNAVAILABLE, reason, GatewayMessage.backendUnavailable, {
    where: 'local',
    whenBytesWritten,
    cause,
  });
}
