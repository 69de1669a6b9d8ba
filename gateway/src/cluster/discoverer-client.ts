/** One instance as the discoverer lists it. */
export interface DiscoveredInstance {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/**
 * Client of a dynamic cluster's registry (extension point). Called only by `DynamicCluster`, off
 * the request path: `fetchInstances` on start-up and every `discoverer_interval_ms`, `unregister` in
 * the background after an endpoint failed.
 *
 * Contract: `fetchInstances` resolves with the complete current list (an empty list is a valid
 * answer) and rejects when the registry could not answer properly (the cluster then keeps its last
 * good list). Both methods must settle within a bounded time.
 */
export interface DiscovererClient {
  fetchInstances(): Promise<readonly DiscoveredInstance[]>;
  unregister(instanceId: string): Promise<void>;
}
