import { describe, expect, it } from 'vitest';
import { InMemorySessionStore } from './in-memory-session-store.js';

describe('InMemorySessionStore', () => {
  it('binds one key per endpoint and one endpoint per key', () => {
    const store = new InMemorySessionStore();
    expect(store.bind('s1', 'a')).toBe(true);
    expect(store.bind('s1', 'a')).toBe(true);
    expect(store.bind('s2', 'a')).toBe(false);
    expect(store.endpointOf('s1')).toBe('a');
    expect(store.keyOf('a')).toBe('s1');
    expect(store.endpointOf('s2')).toBeUndefined();
    expect(store.size).toBe(1);
  });

  it('moves a key to a free endpoint and frees the old one', () => {
    const store = new InMemorySessionStore();
    store.bind('s1', 'a');
    expect(store.bind('s1', 'b')).toBe(true);
    expect(store.keyOf('a')).toBeUndefined();
    expect(store.keyOf('b')).toBe('s1');
    expect(store.bind('s2', 'a')).toBe(true);
    expect(store.size).toBe(2);
  });

  it('unbinds a key only if it still points at the failed endpoint (REFERENCE.md 8.4)', () => {
    const store = new InMemorySessionStore();
    store.bind('s1', 'a');
    store.bind('s1', 'b');
    expect(store.unbindIfBoundTo('s1', 'a')).toBe(false);
    expect(store.endpointOf('s1')).toBe('b');
    expect(store.unbindIfBoundTo('s1', 'b')).toBe(true);
    expect(store.endpointOf('s1')).toBeUndefined();
    expect(store.keyOf('b')).toBeUndefined();
  });

  it('drops the binding of an endpoint that left the cluster, both ways', () => {
    const store = new InMemorySessionStore();
    store.bind('s1', 'a');
    store.bind('s2', 'b');
    store.unbindEndpoint('a');
    store.unbindEndpoint('zzz');
    expect(store.endpointOf('s1')).toBeUndefined();
    expect(store.keyOf('a')).toBeUndefined();
    expect(store.endpointOf('s2')).toBe('b');
    store.close();
    expect(store.size).toBe(0);
    expect(store.keyOf('b')).toBeUndefined();
  });
});
