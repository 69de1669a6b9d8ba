import type { RequestHeaders } from '../grpc/request-headers.js';
import type { StatusCode } from '../grpc/status.js';
import type { Route } from '../routing/route-table.js';

/** What a header filter knows about the call besides its headers. */
export interface CallContext {
  /** The full method name, the HTTP/2 `:path`. */
  readonly path: string;
  readonly route: Route;
}

export type FilterDecision =
  | { readonly action: 'continue' }
  | { readonly action: 'reject'; readonly code: StatusCode; readonly message: string };

export const CONTINUE: FilterDecision = Object.freeze({ action: 'continue' });

/**
 * Header filter (the reference's "header processor"): sync on purpose, it runs on every call's hot path.
 *
 * The pipeline calls `apply` once per call, in chain order, after routing and before any upstream
 * work; the first `reject` ends the call with that status (sent by the pipeline through the one
 * responder). A filter must not modify `headers` (the client's; the route alone decides which
 * reach the backend, REFERENCE.md 6.6), write to the stream, open connections or block; it must not throw (a custom filter that can fail
 * returns `reject` with INTERNAL). A reject `message` reaches the client: never put a token or any
 * header value in it.
 */
export interface HeaderFilter {
  /** Stable snake_case name, for logs and metrics. */
  readonly name: string;
  apply(headers: RequestHeaders, ctx: CallContext): FilterDecision;
}
