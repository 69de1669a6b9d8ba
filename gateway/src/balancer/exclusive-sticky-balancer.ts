import type { ClusterSnapshot } from '../cluster/cluster.js';
import { GatewayError } from '../grpc/gateway-error.js';
import { firstMetadataValue } from '../grpc/metadata.js';
import { Status } from '../grpc/status.js';
import type { Balancer, PickContext, PickResult, SettledPick } from './balancer.js';
import { BOUND_ENDPOINT_UNLISTED, MISSING_STICKY_KEY, NO_FREE_ENDPOINT } from './pick-errors.js';
import type { SessionStore } from './session-store.js';

/**
 * Exclusive sticky sessions (REFERENCE.md 6.9 `sticky_sessions`), as an override of endpoint
 * selection (Envoy's `overrideHostToSelect`): the key (value of the route's `balancer.header`) bound
 * to an endpoint still in the snapshot goes there; otherwise any free endpoint is bound to it. An
 * endpoint bound to one key is never given to another; none free → RESOURCE_EXHAUSTED
 * `all instances are busy`; no key → UNAUTHENTICATED `missing or invalid token`.
 *
 * Free endpoints are searched from a rotating start index, so new sessions spread over the cluster
 * instead of piling onto the first instance (REFERENCE.md 8.5). Lookups of a bound key are O(1) and
 * synchronous with every store; binding a new key scans at most the snapshot once, and with a
 * shared store costs one round trip, two when other processes hold the first candidates (the pick
 * is then `queue`d).
 */
export class ExclusiveStickyBalancer implements Balancer {
  private cursor = 0;

  constructor(
    /** Lower-case metadata key holding the sticky key. */
    private readonly header: string,
    private readonly store: SessionStore,
    /** The route's `session_idle_timeout_ms`: uses are recorded only then. */
    private readonly tracksIdle = false,
  ) {}

  pick(snapshot: ClusterSnapshot, context: PickContext): PickResult {
    const key = firstMetadataValue(context.headers, this.header);
    if (key === undefined) return MISSING_STICKY_KEY;
    if (this.tracksIdle) this.store.touch(key);
    const boundId = this.store.endpointOf(key);
    if (boundId !== undefined) {
      const bound = snapshot.byId.get(boundId);
      if (bound !== undefined) return { type: 'complete', endpoint: bound };
      // Stale: the endpoint left the cluster (normally already unbound by the cluster listener).
      this.store.unbindIfBoundTo(key, boundId);
    }
    return this.claim(key, snapshot, true);
  }

  private claim(key: string, snapshot: ClusterSnapshot, mayRetry: boolean): PickResult {
    const endpoints = snapshot.endpoints;
    const count = endpoints.length;
    const start = this.cursor < count ? this.cursor : 0;
    const claimed = this.store.claim(key, endpoints, start);
    if (typeof claimed === 'number') {
      if (claimed < 0) return NO_FREE_ENDPOINT;
      this.cursor = claimed + 1;
      return { type: 'complete', endpoint: endpoints[claimed] as (typeof endpoints)[number] };
    }
    this.cursor = start + 1;
    return {
      type: 'queue',
      pending: claimed.then(
        (boundId): SettledPick | Promise<SettledPick> => {
          if (boundId === undefined) return NO_FREE_ENDPOINT;
          const bound = snapshot.byId.get(boundId);
          if (bound !== undefined) return { type: 'complete', endpoint: bound };
          // Bound (by this process or another) to an endpoint this one does not list: the store
          // decides whether that binding is stale; until it releases it, the session's instance is
          // unavailable through this gateway. An empty snapshot (discovery not loaded yet) proves nothing.
          if (count === 0) return NO_FREE_ENDPOINT;
          if (!mayRetry) return BOUND_ENDPOINT_UNLISTED;
          this.store.unbindIfBoundTo(key, boundId);
          const again = this.claim(key, snapshot, false);
          return again.type === 'queue' ? again.pending : again;
        },
        (err: unknown): SettledPick => ({ type: 'fail', error: storeError(err) }),
      ),
    };
  }
}

function storeError(err: unknown): GatewayError {
  return err instanceof GatewayError
    ? err
    : new GatewayError(
        Status.UNAVAILABLE,
        'session_store_unavailable',
        `session store unavailable: ${String(err)}`,
      );
}
