import { describe, expect, it } from 'vitest';
import { type ClusterSnapshot, snapshotOf } from '../cluster/cluster.js';
import { makeEndpoint } from '../cluster/endpoint.js';
import { RequestHeaders } from '../grpc/request-headers.js';
import { Status } from '../grpc/status.js';
import type { PickContext, PickResult } from './balancer.js';
import { ExclusiveStickyBalancer } from './exclusive-sticky-balancer.js';
import { InMemorySessionStore } from './in-memory-session-store.js';
import { RoundRobinBalancer } from './round-robin-balancer.js';

function endpoints(count: number): ClusterSnapshot {
  return snapshotOf(Array.from({ length: count }, (_, i) => makeEndpoint(`w${i}`, '127.0.0.1', 5000 + i)));
}

function picked(result: PickResult): string {
  if (result.type === 'complete') return result.endpoint.id;
  throw new Error(
    `expected an endpoint, got ${result.type === 'fail' ? result.error.message : 'a queued pick'}`,
  );
}

function failed(result: PickResult): { code: number; message: string } {
  if (result.type === 'fail') return { code: result.error.code, message: result.error.message };
  throw new Error(
    `expected a failure, got ${result.type === 'complete' ? result.endpoint.id : 'a queued pick'}`,
  );
}

const session = (id: string): PickContext => ({ headers: RequestHeaders.fromObject({ 'session-id': id }) });

describe('RoundRobinBalancer', () => {
  it('cycles through the endpoints in order', () => {
    const balancer = new RoundRobinBalancer();
    const snapshot = endpoints(3);
    const ids = Array.from({ length: 7 }, () => picked(balancer.pick(snapshot)));
    expect(ids).toEqual(['w0', 'w1', 'w2', 'w0', 'w1', 'w2', 'w0']);
  });

  it('keeps going when the snapshot shrinks', () => {
    const balancer = new RoundRobinBalancer();
    balancer.pick(endpoints(5));
    balancer.pick(endpoints(5));
    balancer.pick(endpoints(5));
    expect(picked(balancer.pick(endpoints(2)))).toBe('w0');
    expect(picked(balancer.pick(endpoints(2)))).toBe('w1');
  });

  it('fails with RESOURCE_EXHAUSTED on an empty cluster', () => {
    expect(failed(new RoundRobinBalancer().pick(endpoints(0)))).toEqual({
      code: Status.RESOURCE_EXHAUSTED,
      message: 'all instances are busy',
    });
  });
});

describe('ExclusiveStickyBalancer', () => {
  it('needs the sticky header: missing or empty → UNAUTHENTICATED `missing or invalid token`', () => {
    const balancer = new ExclusiveStickyBalancer('session-id', new InMemorySessionStore());
    const expected = { code: Status.UNAUTHENTICATED, message: 'missing or invalid token' };
    expect(failed(balancer.pick(endpoints(2), { headers: RequestHeaders.fromObject({}) }))).toEqual(expected);
    expect(failed(balancer.pick(endpoints(2), session('')))).toEqual(expected);
  });

  it('keeps a bound key on its endpoint', () => {
    const balancer = new ExclusiveStickyBalancer('session-id', new InMemorySessionStore());
    const snapshot = endpoints(3);
    const first = picked(balancer.pick(snapshot, session('s1')));
    for (let i = 0; i < 10; i++) {
      picked(balancer.pick(snapshot, session(`other-${i % 2}`)));
      expect(picked(balancer.pick(snapshot, session('s1')))).toBe(first);
    }
  });

  it('spreads new keys over free endpoints and refuses the (N+1)-th key', () => {
    const store = new InMemorySessionStore();
    const balancer = new ExclusiveStickyBalancer('session-id', store);
    const snapshot = endpoints(3);
    const ids = ['a', 'b', 'c'].map((key) => picked(balancer.pick(snapshot, session(key))));
    expect(new Set(ids).size).toBe(3);
    expect(failed(balancer.pick(snapshot, session('d')))).toEqual({
      code: Status.RESOURCE_EXHAUSTED,
      message: 'all instances are busy',
    });
    expect(store.size).toBe(3);
  });

  it('rotates the start of the search so that a freed endpoint is not always the first', () => {
    const store = new InMemorySessionStore();
    const balancer = new ExclusiveStickyBalancer('session-id', store);
    const snapshot = endpoints(4);
    expect(picked(balancer.pick(snapshot, session('a')))).toBe('w0');
    expect(picked(balancer.pick(snapshot, session('b')))).toBe('w1');
    store.unbindEndpoint('w0');
    expect(picked(balancer.pick(snapshot, session('c')))).toBe('w2');
  });

  it('rebinds a key whose endpoint left the snapshot, to a free endpoint', () => {
    const store = new InMemorySessionStore();
    const balancer = new ExclusiveStickyBalancer('session-id', store);
    const all = endpoints(3);
    const first = picked(balancer.pick(all, session('s1')));
    const without = snapshotOf(all.endpoints.filter((endpoint) => endpoint.id !== first));
    const second = picked(balancer.pick(without, session('s1')));
    expect(second).not.toBe(first);
    expect(store.endpointOf('s1')).toBe(second);
    expect(store.keyOf(first)).toBeUndefined();
  });

  it('never gives one endpoint to two keys under 1,000 concurrent picks', async () => {
    const store = new InMemorySessionStore();
    const balancer = new ExclusiveStickyBalancer('session-id', store);
    const snapshot = endpoints(10);
    // 1,000 keys, each picking three times from interleaved async tasks.
    const results = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const outcomes: PickResult[] = [];
        for (let round = 0; round < 3; round++) {
          await Promise.resolve();
          outcomes.push(balancer.pick(snapshot, session(`key-${i}`)));
        }
        return { key: `key-${i}`, outcomes };
      }),
    );
    const owners = new Map<string, string>();
    let served = 0;
    for (const { key, outcomes } of results) {
      const ids = outcomes.filter((o) => o.type === 'complete').map((o) => picked(o));
      if (ids.length === 0) continue;
      served++;
      expect(new Set(ids).size).toBe(1);
      const id = ids[0] as string;
      expect(owners.get(id) ?? key).toBe(key);
      owners.set(id, key);
    }
    expect(served).toBe(10);
    expect(owners.size).toBe(10);
    expect(store.size).toBe(10);
  });
});
