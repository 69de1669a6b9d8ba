import type { GatewayError } from '../grpc/gateway-error.js';
import type { UpstreamConnection } from '../upstream/upstream-connection.js';
import type { Endpoint } from './endpoint.js';

/**
 * An immutable view of a cluster's membership. A cluster publishes a new snapshot object on every
 * change and never mutates a published one, so a balancer may read it without locks or copies.
 */
export interface ClusterSnapshot {
  /** The endpoints new calls may be given, in discoverer order. */
  readonly endpoints: readonly Endpoint[];
  /**
   * `endpoints` by id, plus endpoints retained for their bound session after they left discovery
   * (see `Cluster.retainPinned`): a balancer looks bound endpoints up here, never picks new ones here.
   */
  readonly byId: ReadonlyMap<string, Endpoint>;
}

/** Why endpoints left the membership: a transport failure ejected them, or discovery no longer lists them. */
export type RemovalCause = 'failed' | 'left';

export type EndpointsRemovedListener = (endpointIds: readonly string[], cause: RemovalCause) => void;

/**
 * A cluster type (extension point): owns membership and the pooled upstream connections of its
 * endpoints. Nothing in it runs inside a request except the
 * synchronous reads below.
 *
 * Contract:
 * - `snapshot` and `connection()` are synchronous and cheap: the pipeline calls them for every attempt.
 * - `reportFailure` is called by the proxy for each transport failure of a call on an endpoint (never
 *   for an upstream status, a client cancellation or a deadline). A cluster with `failover` ejects
 *   the endpoint; it must never block or throw (slow work such as telling a registry runs in the
 *   background).
 * - Listeners of `onEndpointsRemoved` learn every endpoint that leaves the membership (ejected,
 *   vanished from discovery, or re-addressed), so session affinity can drop its bindings.
 */
export interface Cluster {
  readonly id: string;
  /**
   * True when transport failures eject endpoints and calls are retried and transferred to other
   * endpoints (dynamic clusters, REFERENCE.md 6.10-6.12); false for one fixed address (static).
   */
  readonly failover: boolean;
  readonly snapshot: ClusterSnapshot;
  /** The pooled HTTP/2 connection to `endpoint`, created on first use. */
  connection(endpoint: Endpoint): UpstreamConnection;
  reportFailure(endpoint: Endpoint, error: GatewayError): void;
  onEndpointsRemoved(listener: EndpointsRemovedListener): void;
  /**
   * Optional (membership-changing clusters): endpoints for which `pinned(id)` holds (session affinity
   * has a key bound to them) are retained when they vanish from discovery instead of being removed:
   * they stay reachable through `snapshot.byId` for their bound key, are never offered to new keys,
   * and leave on a transport failure, when no longer pinned, or after a bounded retention. A registry
   * that forgets a live instance (its store restarted empty, heartbeats late) then moves no session:
   * the instance still holds that session's state, and any other instance may hold another's.
   */
  retainPinned?(pinned: (endpointId: string) => boolean): void;
  /**
   * Membership-loading clusters: the first discovery succeeded (the admin listener's readiness);
   * absent = nothing to load.
   */
  readonly discovered?: boolean;
  /** First membership load (a dynamic cluster's first discovery); resolves even if it failed. */
  start(): Promise<void>;
  /** Stops timers and destroys every upstream connection. */
  close(): void;
  /** Upstream HTTP/2 connections created so far (a counter for tests and metrics). */
  readonly connectionsCreated: number;
}

/** A snapshot of `endpoints`, with `retained` endpoints reachable by id only. */
export function snapshotOf(
  endpoints: readonly Endpoint[],
  retained: readonly Endpoint[] = [],
): ClusterSnapshot {
  const byId = new Map<string, Endpoint>();
  for (const endpoint of retained) byId.set(endpoint.id, endpoint);
  for (const endpoint of endpoints) byId.set(endpoint.id, endpoint);
  return Object.freeze({ endpoints: Object.freeze([...endpoints]), byId });
}
