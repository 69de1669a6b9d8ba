import type { ClusterSnapshot } from '../cluster/cluster.js';
import type { Endpoint } from '../cluster/endpoint.js';
import { firstMetadataValue } from '../grpc/metadata.js';
import type { Balancer, PickContext, PickResult } from './balancer.js';
import { MISSING_STICKY_KEY, NO_FREE_ENDPOINT } from './pick-errors.js';
import type { SessionAffinityStore } from './session-affinity-store.js';

/**
 * Exclusive sticky sessions (REFERENCE.md 6.9 `sticky_sessions`), as an override of endpoint
 * selection (Envoy's `overrideHostToSelect`): the key (value of the route's `balancer.header`) bound
 * to an endpoint still in the snapshot goes there; otherwise any free endpoint is bound to it. An
 * endpoint bound to one key is never given to another; none free → RESOURCE_EXHAUSTED
 * `all instances are busy`; no key → UNAUTHENTICATED `missing or invalid token`.
 *
 * Free endpoints are searched from a rotating start index, so new sessions spread over the cluster
 * instead of piling onto the first instance (REFERENCE.md 8.5). Lookups of a bound key are O(1);
 * binding a new key scans at most the snapshot once.
 */
export class ExclusiveStickyBalancer implements Balancer {
  private cursor = 0;

  constructor(
    /** Lower-case metadata key holding the sticky key. */
    private readonly header: string,
    private readonly store: SessionAffinityStore,
  ) {}

  pick(snapshot: ClusterSnapshot, context: PickContext): PickResult {
    const key = firstMetadataValue(context.headers, this.header);
    if (key === undefined) return MISSING_STICKY_KEY;
    const boundId = this.store.endpointOf(key);
    if (boundId !== undefined) {
      const bound = snapshot.byId.get(boundId);
      if (bound !== undefined) return { type: 'complete', endpoint: bound };
      // Stale: the endpoint left the cluster (normally already unbound by the cluster listener).
      this.store.unbindIfBoundTo(key, boundId);
    }
    const endpoints = snapshot.endpoints;
    const count = endpoints.length;
    const start = this.cursor < count ? this.cursor : 0;
    for (let offset = 0; offset < count; offset++) {
      const index = (start + offset) % count;
      const endpoint = endpoints[index] as Endpoint;
      if (this.store.keyOf(endpoint.id) === undefined && this.store.bind(key, endpoint.id)) {
        this.cursor = index + 1;
        return { type: 'complete', endpoint };
      }
    }
    return NO_FREE_ENDPOINT;
  }
}
