import type { SessionAffinityStore } from './session-affinity-store.js';

/** The default `SessionAffinityStore`: two maps kept in step, one per direction. */
export class InMemoryAffinityStore implements SessionAffinityStore {
  private readonly endpointByKey = new Map<string, string>();
  private readonly keyByEndpoint = new Map<string, string>();

  endpointOf(key: string): string | undefined {
    return this.endpointByKey.get(key);
  }

  keyOf(endpointId: string): string | undefined {
    return this.keyByEndpoint.get(endpointId);
  }

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
    return true;
  }

  unbindEndpoint(endpointId: string): void {
    const key = this.keyByEndpoint.get(endpointId);
    if (key === undefined) return;
    this.keyByEndpoint.delete(endpointId);
    this.endpointByKey.delete(key);
  }

  clear(): void {
    this.endpointByKey.clear();
    this.keyByEndpoint.clear();
  }

  get size(): number {
    return this.endpointByKey.size;
  }
}
