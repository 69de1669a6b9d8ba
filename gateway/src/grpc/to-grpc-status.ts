import { ErrorCode } from '../h2/constants.js';
import { GatewayError } from './gateway-error.js';
import { GatewayMessage, Status, type StatusCode } from './status.js';

/** A client-visible gRPC status. */
export interface GrpcStatus {
  readonly code: StatusCode;
  readonly message: string;
}

const UNAVAILABLE: GrpcStatus = Object.freeze({
  code: Status.UNAVAILABLE,
  message: GatewayMessage.backendUnavailable,
});

/**
 * Turns anything that ends a call into the status the client sees (REFERENCE.md 6.13, gateway side):
 * a GatewayError keeps its code and message except that every UNAVAILABLE the gateway detects says
 * `backend service unavailable` (but `session store unavailable` when the shared session store is away); anything else becomes that same UNAVAILABLE. Statuses sent
 * by upstreams never come through here: they are relayed unchanged.
 */
export function toGrpcStatus(err: unknown): GrpcStatus {
  if (err instanceof GatewayError) {
    // A session store outage is not the backend's: the client is told which part is missing.
    if (err.code === Status.UNAVAILABLE && err.reason !== 'session_store_unavailable') return UNAVAILABLE;
    return { code: err.code, message: err.message };
  }
  // Rule 5: Node transport errors (ECONNREFUSED, ERR_HTTP2_*), and anything else that is not a
  // status, reach the client as UNAVAILABLE; the caller logs the cause.
  return UNAVAILABLE;
}

/**
 * Maps an HTTP/2 RST_STREAM code received from a peer to a gRPC code, as grpc-js does in
 * `subchannel-call.ts` (PROTOCOL-HTTP2.md "Errors"). The caller decides first whether the
 * connection itself dropped; that case is always UNAVAILABLE whatever the code.
 */
export function statusFromRstCode(rstCode: number): StatusCode {
  switch (rstCode) {
    case ErrorCode.REFUSED_STREAM:
      return Status.UNAVAILABLE;
    case ErrorCode.CANCEL:
      return Status.CANCELLED;
    case ErrorCode.ENHANCE_YOUR_CALM:
      return Status.RESOURCE_EXHAUSTED;
    case ErrorCode.INADEQUATE_SECURITY:
      return Status.PERMISSION_DENIED;
    default:
      return Status.INTERNAL;
  }
}
