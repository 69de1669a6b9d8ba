import { FakeDiscoverer, waitFor } from '@stickygw/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
