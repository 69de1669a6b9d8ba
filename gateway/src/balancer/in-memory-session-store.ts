import type { Endpoint } from '../cluster/endpoint.js';
import type { SessionStore } from './session-store.js';

/** The default `SessionStore`, for one gateway process: two maps kept in step, one per direction. */
export class InMemorySessionStore implements SessionStore {
  private readonly endpointByKey = new Map<string, string>();
  private readonly keyByEndpoint = new Map<string, string>();
  /** Last use of each key, kept only for routes with an idle timeout. */
  private readonly usedAt = new Map<string, number>();

  endpointOf(key: string): string | undefined {
    return this.endpointByKey.get(key);
  }

  keyOf(endpointId: string): string | undefined {
    return this.keyByEndpoint.get(endpointId);
  }

  claim(key: string, endpoints: readonly Endpoint[], start: number): number {
    const count = endpoints.length;
    for (let offset = 0; offset < count; offset++) {
      const index = (start + offset) % count;
      const id = (endpoints[index] as Endpoint).id;
      if (this.keyByEndpoint.get(id) === undefined && this.bind(key, id)) return index;
    }
    return -1;
  }

  /**
   * Binds `key` to `endpointId` unless the endpoint is bound to another key (then returns false).
   * A previous binding of `key` to another endpoint is replaced.
   */
  bind(key: string, endpointId: string): boolean {
    const holder = this.keyByEndpoint.get(endpointId);
    if (holder !== undefined) return holder === key;
    const previous = this.endpointByKey.get(key);
    if (previous !== undefined) this.keyByEndpoint.delete(previous);
    this.endpointByKey.set(key, endpointId);
    this.keyByEndpoint.set(endpointId, key);
    return true;
  }

  unbindIfBoundTo(key: string, endpointId: string): boolean {
    if (this.endpointByKey.get(key) !== endpointId) return false;
    this.endpointByKey.delete(key);
    this.keyByEndpoint.delete(endpointId);
    this.usedAt.delete(key);
    return true;
  }

  unbindEndpoint(endpointId: string): void {
    const key = this.keyByEndpoint.get(endpointId);
    if (key === undefined) return;
    this.keyByEndpoint.delete(endpointId);
    this.endpointByKey.delete(key);
    this.usedAt.delete(key);
  }

  touch(key: string, now = Date.now()): void {
    this.usedAt.set(key, now);
  }

  releaseIdle(idleMs: number, now = Date.now()): void {
    for (const [key, usedAt] of this.usedAt) {
      if (now - usedAt < idleMs) continue;
      const endpointId = this.endpointByKey.get(key);
      if (endpointId !== undefined) this.unbindIfBoundTo(key, endpointId);
      this.usedAt.delete(key);
    }
  }

  /** Every binding, key → endpoint id. */
  entries(): IterableIterator<[string, string]> {
    return this.endpointByKey.entries();
  }

  close(): void {
    this.endpointByKey.clear();
    this.keyByEndpoint.clear();
    this.usedAt.clear();
  }

  get size(): number {
    return this.endpointByKey.size;
  }
}
