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

/**
 * What an instance is doing, for operators (metrics, the admin page):
 * - `free`: offered to new sessions and round-robin picks (the cluster knows no binding; the
 *   gateway turns it into `bound` when its session store holds one);
 * - `retained`: left discovery but kept for its bound session (`retainPinned`);
 * - `ejected`: out of rotation and unbound: failing its active health checks, or ejected by outlier
 *   detection for its ejection period;
 * - `draining`: an operator drained it: no new sessions, its existing binding keeps working.
 */
export type InstanceState = 'free' | 'bound' | 'retained' | 'ejected' | 'draining';

export interface InstanceStatus {
  readonly id: string;
  /** `host:port` */
  readonly address: string;
  readonly state: InstanceState;
  /** Why it is `ejected`. */
  readonly ejectedBy?: 'health_check' | 'outlier_detection';
  /** The sticky session bound to it, when the gateway's session store knows one. */
  readonly sessionId?: string;
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
  /**
   * Optional: the proxy calls it when `endpoint` answered a call (response headers or a status,
   * whatever the grpc-status): a transport success, which ends a run of transport failures for
   * outlier detection. Called on the hot path: it must be O(1) and never throw.
   */
  reportSuccess?(endpoint: Endpoint): void;
  /**
   * Optional: marks the instance `endpointId` drained (no new sessions or round-robin picks; a
   * session bound to it keeps it) or, with `drained` false, offers it again. False when the
   * cluster does not know the instance. A drain lasts until undone, across discovery rounds.
   */
  setDrained?(endpointId: string, drained: boolean): boolean;
  /** Optional: every instance known to the cluster with its state (bindings are the gateway's). */
  instances?(): readonly InstanceStatus[];
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
