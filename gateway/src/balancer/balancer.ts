import type { ClusterSnapshot } from '../cluster/cluster.js';
import type { Endpoint } from '../cluster/endpoint.js';
import type { GatewayError } from '../grpc/gateway-error.js';
import type { RequestHeaders } from '../grpc/request-headers.js';

/** What a balancer may look at when picking. */
export interface PickContext {
  /** The call's request headers (read only). */
  readonly headers: RequestHeaders;
}

/**
 * The outcome of a pick, as grpc-js' `PickResult`: an endpoint, a status that ends the attempt
 * loop, or (`queue`) an answer that needs a round trip to a shared session store first; its
 * promise never rejects.
 */
export type PickResult = SettledPick | { readonly type: 'queue'; readonly pending: Promise<SettledPick> };

export type SettledPick =
  | { readonly type: 'complete'; readonly endpoint: Endpoint }
  | { readonly type: 'fail'; readonly error: GatewayError };

/**
 * Load balancer of one route over one cluster (extension point).
 *
 * Contract: the pipeline calls `pick` synchronously for every attempt (the hot path), with the
 * cluster's current immutable snapshot. An endpoint that failed earlier in the call has already been
 * ejected from that snapshot. `pick` must not throw; it answers at once unless it needs a shared
 * store (a new sticky session over Redis), then it returns `queue`. A `fail` result ends the attempt
 * loop (no further attempts).
 */
export interface Balancer {
  pick(snapshot: ClusterSnapshot, context: PickContext): PickResult;
}
