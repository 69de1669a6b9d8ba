/**
 * Exclusive session affinity: one key per endpoint and one endpoint per key (REFERENCE.md 6.9).
 * The seam where bindings could later be shared between gateway replicas.
 *
 * Contract: every method is synchronous and O(1) in the number of bindings; `bind` is atomic (it
 * either binds or leaves everything unchanged). Callers: the sticky balancer (lookup, bind), and the
 * gateway's cluster listeners (unbind an endpoint that left the cluster).
 */
export interface SessionAffinityStore {
  /** The endpoint id bound to `key`, if any. */
  endpointOf(key: string): string | undefined;
  /** The key bound to `endpointId`, if any. */
  keyOf(endpointId: string): string | undefined;
  /**
   * Binds `key` to `endpointId` unless the endpoint is bound to another key (then returns false).
   * A previous binding of `key` to another endpoint is replaced.
   */
  bind(key: string, endpointId: string): boolean;
  /** Drops `key`'s binding only if it still points at `endpointId` (REFERENCE.md 8.4). */
  unbindIfBoundTo(key: string, endpointId: string): boolean;
  /** Drops whatever binding `endpointId` has (the endpoint left the cluster). */
  unbindEndpoint(endpointId: string): void;
  clear(): void;
  readonly size: number;
}
