import type { ClusterSnapshot } from '../cluster/cluster.js';
import type { Balancer, PickResult } from './balancer.js';
import { NO_FREE_ENDPOINT } from './pick-errors.js';

/**
 * Cycles through the snapshot's endpoints (REFERENCE.md 6.9 `round_robin`); an empty cluster fails
 * with RESOURCE_EXHAUSTED `all instances are busy`. It ignores sticky bindings, as the reference.
 */
export class RoundRobinBalancer implements Balancer {
  private cursor = 0;

  pick(snapshot: ClusterSnapshot): PickResult {
    const endpoints = snapshot.endpoints;
    const count = endpoints.length;
    if (count === 0) return NO_FREE_ENDPOINT;
    const index = this.cursor < count ? this.cursor : 0;
    this.cursor = index + 1;
    return { type: 'complete', endpoint: endpoints[index] as (typeof endpoints)[number] };
  }
}
