import type { IncomingHttpHeaders } from 'node:http2';
import type { ClusterSnapshot } from '../cluster/cluster.js';
import type { Endpoint } from '../cluster/endpoint.js';
import type { GatewayError } from '../grpc/gateway-error.js';

/** What a balancer may look at when picking. */
export interface PickContext {
  /** The call's request headers (read only). */
  readonly headers: IncomingHttpHeaders;
}

/** The outcome of a pick, as grpc-js' `PickResult`: an endpoint, or a status that ends the attempt loop. */
export type PickResult =
  | { readonly type: 'complete'; readonly endpoint: Endpoint }
  | { readonly type: 'fail'; readonly error: GatewayError };

/**
 * Load balancer of one route over one cluster (extension point).
 *
 * Contract: the pipeline calls `pick` synchronously for every attempt (the hot path), with the
 * cluster's current immutable snapshot. An endpoint that failed earlier in the call has already been
 * ejected from that snapshot. `pick` must not do I/O, throw, or keep the snapshot beyond the call.
 * A `fail` result ends the attempt loop (no further attempts).
 */
export interface Balancer {
  pick(snapshot: ClusterSnapshot, context: PickContext): PickResult;
}
