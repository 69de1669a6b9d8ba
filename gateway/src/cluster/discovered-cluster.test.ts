import { FakeDiscoverer, waitFor } from '@stickygw/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../grpc/errors.js';
import { Status } from '../grpc/status.js';
import { createLogger } from '../observability/logger.js';
import { DiscoveredCluster, type DiscoveredClusterOptions } from './discovered-cluster.js';
import { HttpDiscoveryClient } from './discoverer-client.js';
import type { Endpoint } from './endpoint.js';

const logger = createLogger({ level: 'silent' });
const failure = new GatewayError(Status.UNAVAILABLE, 'upstream_reset', 'reset');

describe('HttpDiscoveryClient', () => {
  let discoverer: FakeDiscoverer;
  beforeEach(async () => {
    discoverer = await FakeDiscoverer.start();
  });
  afterEach(() => discoverer.stop());

  it('reads instances, skipping malformed entries', async () => {
    const invalid: number[] = [];
    const client = new HttpDiscoveryClient(discoverer.url, {
      onInvalidEntries: (count) => invalid.push(count),
    });
    discoverer.rawBody = JSON.stringify({
      instances: [
        { instance_id: 'a', ipv4: '10.0.0.1', port: 5000, extra: true },
        { instance_id: 'b', ipv4: '10.0.0.2', port: 70000 },
        { instance_id: '..', ipv4: '10.0.0.3', port: 5000 },
        { instance_id: 'c\n', ipv4: '10.0.0.4', port: 5000 },
        { instance_id: 7, ipv4: '10.0.0.5', port: 5000 },
        { instance_id: 'd/e:*', ipv4: '10.0.0.6', port: 1 },
        null,
      ],
    });
    expect(await client.fetchInstances()).toEqual([
      { id: 'a', host: '10.0.0.1', port: 5000 },
      { id: 'd/e:*', host: '10.0.0.6', port: 1 },
    ]);
    expect(invalid).toEqual([5]);
  });

  it('treats 404 as an empty list and other failures as errors', async () => {
    const client = new HttpDiscoveryClient(discoverer.url);
    discoverer.failWith = 404;
    expect(await client.fetchInstances()).toEqual([]);
    discoverer.failWith = 500;
    await expect(client.fetchInstances()).rejects.toThrow('discoverer answered HTTP 500');
    discoverer.failWith = undefined;
    discoverer.rawBody = '{"instances":null}';
    await expect(client.fetchInstances()).rejects.toThrow('discoverer response missing instances field');
    discoverer.rawBody = 'not json';
    await expect(client.fetchInstances()).rejects.toThrow('not valid JSON');
    discoverer.rawBody = JSON.stringify({ instances: Array(2000).fill({ instance_id: 'x'.repeat(100) }) });
    await expect(
      new HttpDiscoveryClient(discoverer.url, { maxBodyBytes: 1000 }).fetchInstances(),
    ).rejects.toThrow('larger than 1000 bytes');
  });

  it('percent-encodes the id it unregisters', async () => {
    await new HttpDiscoveryClient(discoverer.url).unregister('pod/1 ?#');
    expect(discoverer.unregistered).toEqual(['pod/1 ?#']);
  });
});

describe('DiscoveredCluster', () => {
  let discoverer: FakeDiscoverer;
  let cluster: DiscoveredCluster;
  let removed: string[][];

  beforeEach(async () => {
    discoverer = await FakeDiscoverer.start();
    removed = [];
  });
  afterEach(async () => {
    cluster?.close();
    await discoverer.stop();
  });

  function create(options: DiscoveredClusterOptions = {}): DiscoveredCluster {
    cluster = new DiscoveredCluster(
      { type: 'dynamic', id: 'workers', discovererUrl: discoverer.url, discovererIntervalMs: 60_000 },
      new HttpDiscoveryClient(discoverer.url),
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
