import type { RemovalCause } from '../cluster/cluster.js';
import type { Endpoint } from '../cluster/endpoint.js';

/**
 * Exclusive session affinity of one cluster: one key per endpoint and one endpoint per key
 * (REFERENCE.md 6.9). The memory store keeps bindings in this process; a shared store (Redis)
 * keeps them for every gateway process, with a local copy in front.
 *
 * Contract: the lookups are synchronous and O(1) (a shared store answers from its local copy, so a
 * call of a bound session costs no round trip). `claim` is atomic: it binds `key` to one free
 * endpoint or changes nothing. Callers: the sticky balancer (lookup, claim), and the gateway's
 * cluster listeners (unbind an endpoint that left the cluster).
 */
export interface SessionStore {
  /** The endpoint id bound to `key`, if known here. */
  endpointOf(key: string): string | undefined;
  /** The key bound to `endpointId`, if known here. */
  keyOf(endpointId: string): string | undefined;
  /**
   * Binds `key` to the first free endpoint of `endpoints`, searched from `start` round the list.
   * A local store answers at once with the index bound (-1: none free), allocating nothing. A shared
   * store answers with a promise of the endpoint id that `key` is bound to (an existing binding made
   * by another process, or a new one; undefined: none free); it rejects with a `GatewayError` when
   * the store cannot be reached.
   */
  claim(key: string, endpoints: readonly Endpoint[], start: number): number | Promise<string | undefined>;
  /** Drops `key`'s binding only if it still points at `endpointId` (REFERENCE.md 8.4). */
  unbindIfBoundTo(key: string, endpointId: string): void;
  /** Drops whatever binding `endpointId` has (the endpoint left the cluster). */
  unbindEndpoint(endpointId: string, cause: RemovalCause): void;
  /** Marks `key` as used now (routes with `session_idle_timeout_ms`). */
  touch(key: string): void;
  /** Drops bindings unused for `idleMs` (routes with `session_idle_timeout_ms`). */
  releaseIdle(idleMs: number): void;
  /** Stops timers and connections; the local copy is dropped. */
  close(): void;
  /** Every binding known here, key → endpoint id (the admin listener lists them). */
  entries(): IterableIterator<[string, string]>;
  /** Bindings known here. */
  readonly size: number;
}
