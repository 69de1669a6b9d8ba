import type { Balancer, Cluster, ClusterSnapshot, PickResult } from '@stickygw/gateway';
import { GatewayError, GatewayMessage, Status } from '@stickygw/gateway';

const NO_ENDPOINT: PickResult = Object.freeze({
  type: 'fail',
  error: new GatewayError(Status.RESOURCE_EXHAUSTED, 'no_free_endpoint', GatewayMessage.allInstancesBusy),
});

/**
 * Picks the endpoint with the fewest calls in flight: the open streams of this gateway process
 * on its pooled connection (`UpstreamConnection.streamsInFlight`, every route that uses the
 * endpoint counted). Ties go round the endpoints from a rotating start, so equal loads still
 * spread and a burst picked before its streams open does not land on one endpoint.
 *
 * O(endpoints) per pick and synchronous, as the Balancer contract asks; for thousands of endpoints
 * sample two at random instead (Envoy's "power of two choices"). `connection()` only creates the
 * pool's object for an endpoint, it does not connect.
 */
export class LeastRequestsBalancer implements Balancer {
  #start = 0;

  constructor(private readonly cluster: Cluster) {}

  pick(snapshot: ClusterSnapshot): PickResult {
    const endpoints = snapshot.endpoints;
    const count = endpoints.length;
    if (count === 0) return NO_ENDPOINT;
    const start = this.#start++ % count;
    let best = endpoints[start] as (typeof endpoints)[number];
    let fewest = this.cluster.connection(best).streamsInFlight;
    for (let step = 1; step < count && fewest > 0; step++) {
      const endpoint = endpoints[(start + step) % count] as (typeof endpoints)[number];
      const inFlight = this.cluster.connection(endpoint).streamsInFlight;
      if (inFlight < fewest) {
        best = endpoint;
        fewest = inFlight;
      }
    }
    return { type: 'complete', endpoint: best };
  }
}
