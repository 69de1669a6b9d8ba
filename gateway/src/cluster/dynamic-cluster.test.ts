import { FakeDiscoverer, waitFor } from '@stickygw/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DynamicClusterConfig } from '../config/types.js';
import { GatewayError } from '../grpc/gateway-error.js';
import { Status } from '../grpc/status.js';
import { createLogger } from '../observability/logger.js';
import { DynamicCluster, type DynamicClusterOptions } from './dynamic-cluster.js';
import type { Endpoint } from './endpoint.js';
import { HttpDiscovererClient } from './http-discoverer-client.js';

const logger = createLogger({ level: 'silent' });
const failure = new GatewayError(Status.UNAVAILABLE, 'upstream_reset', 'reset');

describe('DynamicCluster', () => {
  let discoverer: FakeDiscoverer;
  let cluster: DynamicCluster;
  let removed: string[][];

  beforeEach(async () => {
    discoverer = await FakeDiscoverer.start();
    removed = [];
  });
  afterEach(async () => {
    cluster?.close();
    await discoverer.stop();
  });

  function create(options: DynamicClusterOptions = {}): DynamicCluster {
    cluster = new DynamicCluster(
      { id: 'workers', discovererIntervalMs: 60_000 },
      new HttpDiscovererClient(discoverer.url),
      logger,
      undefined,
      options,
    );
    cluster.onEndpointsRemoved((ids) => removed.push([...ids]));
    return cluster;
  }

  it('starts with an empty list when the first discovery fails', async () => {
    discoverer.failWith = 503;
    await create().start();
    expect(cluster.snapshot.endpoints).toEqual([]);
  });

  it('publishes new snapshots, keeps unchanged endpoint objects, and reports vanished or moved ones', async () => {
    discoverer.list({ name: 'a', port: 1001 }, { name: 'b', port: 1002 }, { name: 'c', port: 1003 });
    await create().start();
    const first = cluster.snapshot;
    expect(first.endpoints.map((e) => e.authority)).toEqual([
      '127.0.0.1:1001',
      '127.0.0.1:1002',
      '127.0.0.1:1003',
    ]);
    discoverer.list({ name: 'a', port: 1001 }, { name: 'b', port: 2002 });
    await cluster.refresh();
    const second = cluster.snapshot;
    expect(second).not.toBe(first);
    expect(second.byId.get('a')).toBe(first.byId.get('a'));
    expect(second.byId.get('b')?.port).toBe(2002);
    expect(removed).toEqual([['b', 'c']]);
    await cluster.refresh();
    expect(cluster.snapshot).toBe(second);
  });

  it('ejects a failed endpoint once, unregisters it in the background, and takes it back if listed again', async () => {
    discoverer.list({ name: 'a', port: 1001 }, { name: 'b', port: 1002 });
    await create().start();
    const a = cluster.snapshot.byId.get('a');
    if (a === undefined) throw new Error('a missing');
    cluster.reportFailure(a, failure);
    cluster.reportFailure(a, failure);
    expect(cluster.snapshot.endpoints.map((e) => e.id)).toEqual(['b']);
    expect(removed).toEqual([['a']]);
    await waitFor(() => discoverer.unregistered.length > 0, { description: 'the unregister POST' });
    expect(discoverer.unregistered).toEqual(['a']);
    discoverer.list({ name: 'a', port: 1001 }, { name: 'b', port: 1002 });
    await cluster.refresh();
    expect(cluster.snapshot.endpoints.map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('retains a pinned endpoint that vanished, reachable by id only, until it is listed again', async () => {
    let now = 0;
    discoverer.list({ name: 'a', port: 1001 }, { name: 'b', port: 1002 }, { name: 'c', port: 1003 });
    await create({ now: () => now, vanishedRetentionMs: 1_000 }).start();
    cluster.retainPinned((id) => id === 'a');
    const a = cluster.snapshot.byId.get('a');
    discoverer.list({ name: 'c', port: 1003 });
    await cluster.refresh();
    expect(cluster.snapshot.endpoints.map((e) => e.id)).toEqual(['c']);
    expect(cluster.snapshot.byId.get('a')).toBe(a);
    expect(cluster.snapshot.byId.has('b')).toBe(false);
    expect(removed).toEqual([['b']]);

    now = 999;
    await cluster.refresh();
    expect(cluster.snapshot.byId.get('a')).toBe(a);
    discoverer.list({ name: 'a', port: 1001 }, { name: 'c', port: 1003 });
    await cluster.refresh();
    expect(cluster.snapshot.endpoints.map((e) => e.id)).toEqual(['a', 'c']);
    expect(cluster.snapshot.byId.get('a')).toBe(a);
    expect(removed).toEqual([['b']]);
  });

  it('drops a retained endpoint after the retention, once unpinned, or when it fails', async () => {
    let now = 0;
    const pinned = new Set(['a', 'b', 'c']);
    discoverer.list({ name: 'a', port: 1001 }, { name: 'b', port: 1002 }, { name: 'c', port: 1003 });
    await create({ now: () => now, vanishedRetentionMs: 1_000 }).start();
    cluster.retainPinned((id) => pinned.has(id));
    discoverer.list();
    await cluster.refresh();
    expect([...cluster.snapshot.byId.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(cluster.snapshot.endpoints).toEqual([]);

    cluster.reportFailure(cluster.snapshot.byId.get('a') as Endpoint, failure);
    expect(removed).toEqual([['a']]);
    pinned.delete('b');
    now = 500;
    await cluster.refresh();
    expect([...cluster.snapshot.byId.keys()]).toEqual(['c']);
    expect(removed).toEqual([['a'], ['b']]);
    now = 1_000;
    await cluster.refresh();
    expect(cluster.snapshot.byId.size).toBe(0);
    expect(removed).toEqual([['a'], ['b'], ['c']]);
  });

  it('does not retain a pinned endpoint whose address changed (a new process at another address)', async () => {
    discoverer.list({ name: 'a', port: 1001 });
    await create().start();
    cluster.retainPinned(() => true);
    discoverer.list({ name: 'a', port: 2001 });
    await cluster.refresh();
    expect(cluster.snapshot.byId.get('a')?.port).toBe(2001);
    expect(removed).toEqual([['a']]);
  });

  it('does not unregister a failed endpoint the discoverer now lists at another address', async () => {
    discoverer.list({ name: 'a', port: 1001 }, { name: 'b', port: 1002 });
    await create().start();
    const a = cluster.snapshot.byId.get('a') as Endpoint;
    // The instance restarted on another port and re-registered; the cluster has not refreshed yet.
    discoverer.list({ name: 'a', port: 2001 }, { name: 'b', port: 1002 });
    const before = discoverer.listRequests;
    cluster.reportFailure(a, failure);
    expect(cluster.snapshot.byId.has('a')).toBe(false);
    await waitFor(() => discoverer.listRequests > before, { description: 'the check before unregistering' });
    const b = cluster.snapshot.byId.get('b') as Endpoint;
    cluster.reportFailure(b, failure);
    await waitFor(() => discoverer.unregistered.length > 0, { description: 'the unregister of b' });
    expect(discoverer.unregistered).toEqual(['b']);
  });
});

describe('DynamicCluster health checks, outlier detection and drain', () => {
  let discoverer: FakeDiscoverer;
  let cluster: DynamicCluster;
  let removed: [string[], string][];
  /** The answer of each instance's next active check. */
  let serving: Map<string, boolean>;

  beforeEach(async () => {
    discoverer = await FakeDiscoverer.start();
    removed = [];
    serving = new Map();
  });
  afterEach(async () => {
    cluster?.close();
    await discoverer.stop();
  });

  async function start(extra: Partial<DynamicClusterConfig>, options: DynamicClusterOptions = {}) {
    cluster = new DynamicCluster(
      {
        type: 'dynamic',
        id: 'workers',
        discovererUrl: discoverer.url,
        discovererIntervalMs: 60_000,
        ...extra,
      },
      new HttpDiscovererClient(discoverer.url),
      logger,
      undefined,
      {
        checkHealth: (endpoint) =>
          Promise.resolve(
            serving.get(endpoint.id) === false
              ? { healthy: false, reason: 'not serving', answered: true }
              : { healthy: true },
          ),
        ...options,
      },
    );
    cluster.onEndpointsRemoved((ids, cause) => removed.push([[...ids], cause]));
    discoverer.list({ name: 'a', port: 1001 }, { name: 'b', port: 1002 });
    await cluster.start();
  }

  /** One round of checks, settled (the fake answers at once). */
  async function checkRound(): Promise<void> {
    cluster.checkHealthNow();
    await new Promise((resolve) => setImmediate(resolve));
  }

  const offered = (): string[] => cluster.snapshot.endpoints.map((endpoint) => endpoint.id);
  const stateOf = (id: string) => cluster.instances().find((instance) => instance.id === id);
  const endpoint = (id: string): Endpoint => {
    const found = cluster.snapshot.byId.get(id);
    if (found === undefined) throw new Error(`${id} not in the snapshot`);
    return found;
  };

  /**
   * A transport failure of `id` (the reference's ejection, which unregisters it), then the worker
   * re-registers and a discovery round lists it again.
   */
  async function failAndRelist(id: string): Promise<void> {
    const before = discoverer.unregistersOf(id).length;
    cluster.reportFailure(endpoint(id), failure);
    await waitFor(() => discoverer.unregistersOf(id).length > before, { description: `unregister of ${id}` });
    discoverer.list({ name: 'a', port: 1001 }, { name: 'b', port: 1002 });
    await cluster.refresh();
  }

  const healthCheck = {
    intervalMs: 60_000,
    timeoutMs: 1000,
    unhealthyThreshold: 2,
    healthyThreshold: 3,
    service: '',
  };

  it('ejects an instance after unhealthy_threshold failed checks, drops its binding, and takes it back after healthy_threshold', async () => {
    await start({ healthCheck });
    serving.set('a', false);
    await checkRound();
    expect(offered()).toEqual(['a', 'b']);
    await checkRound();
    expect(offered()).toEqual(['b']);
    expect(cluster.snapshot.byId.has('a')).toBe(false);
    expect(removed).toEqual([[['a'], 'failed']]);
    expect(stateOf('a')).toEqual({
      id: 'a',
      address: '127.0.0.1:1001',
      state: 'ejected',
      ejectedBy: 'health_check',
    });
    // Listed again by discovery, it stays out while it fails its checks.
    await cluster.refresh();
    expect(offered()).toEqual(['b']);
    serving.set('a', true);
    await checkRound();
    await checkRound();
    expect(offered()).toEqual(['b']);
    await checkRound();
    expect(offered()).toEqual(['a', 'b']);
    expect(stateOf('a')?.state).toBe('free');
  });

  it('a success between failures starts the count again', async () => {
    await start({ healthCheck });
    serving.set('a', false);
    await checkRound();
    serving.set('a', true);
    await checkRound();
    serving.set('a', false);
    await checkRound();
    expect(offered()).toEqual(['a', 'b']);
  });

  it('outlier detection: consecutive transport failures eject for a growing period, capped, even while listed', async () => {
    let now = 1_000_000;
    await start(
      { outlierDetection: { consecutiveFailures: 2, baseEjectionMs: 400, maxEjectionMs: 600 } },
      { now: () => now },
    );
    // The reference's ejection: out until it is listed again, then back.
    await failAndRelist('a');
    expect(offered()).toEqual(['a', 'b']);
    const ejectedAt = performance.now();
    await failAndRelist('a');
    expect(offered()).toEqual(['b']);
    expect(stateOf('a')).toMatchObject({ state: 'ejected', ejectedBy: 'outlier_detection' });
    await waitFor(() => offered().includes('a'), { description: 'a back', timeoutMs: 5000, intervalMs: 5 });
    expect(performance.now() - ejectedAt).toBeGreaterThanOrEqual(390);
    // The second ejection lasts min(2 x 400, 600) ms.
    await failAndRelist('a');
    const secondAt = performance.now();
    await failAndRelist('a');
    expect(offered()).toEqual(['b']);
    await waitFor(() => offered().includes('a'), { description: 'a back', timeoutMs: 5000, intervalMs: 5 });
    expect(performance.now() - secondAt).toBeGreaterThanOrEqual(590);
    // After a whole max period in rotation, the count of ejections starts over.
    now += 600;
    await failAndRelist('a');
    await failAndRelist('a');
    expect(stateOf('a')?.state).toBe('ejected');
    await waitFor(() => offered().includes('a'), { description: 'a back', timeoutMs: 5000, intervalMs: 5 });
  });

  it('outlier detection: an answered call (any grpc-status) ends the run of failures', async () => {
    await start({
      outlierDetection: { consecutiveFailures: 2, baseEjectionMs: 60_000, maxEjectionMs: 60_000 },
    });
    for (let i = 0; i < 5; i++) {
      await failAndRelist('a');
      cluster.reportSuccess(endpoint('a'));
    }
    expect(offered()).toEqual(['a', 'b']);
    expect(stateOf('a')?.state).toBe('free');
  });

  it('drain: no longer offered, still reachable by id for its bound session, until undrained', async () => {
    await start({});
    expect(cluster.setDrained('a', true)).toBe(true);
    expect(offered()).toEqual(['b']);
    expect(cluster.snapshot.byId.get('a')?.port).toBe(1001);
    expect(stateOf('a')?.state).toBe('draining');
    await cluster.refresh();
    expect(offered()).toEqual(['b']);
    expect(removed).toEqual([]);
    expect(cluster.setDrained('nope', true)).toBe(false);
    expect(cluster.setDrained('a', false)).toBe(true);
    expect(offered()).toEqual(['a', 'b']);
  });
});
