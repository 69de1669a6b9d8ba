import { describe, expect, it } from 'vitest';
import type { DynamicClusterConfig, StaticClusterConfig } from '../config/types.js';
import { createLogger } from '../observability/logger.js';
import { DEFAULT_UPSTREAM_CONNECTION_OPTIONS } from '../upstream/upstream-connection.js';
import { type ClusterContext, ClusterManager, DEFAULT_CLUSTER_FACTORIES } from './cluster-manager.js';
import { StaticCluster } from './static-cluster.js';

const context: ClusterContext = {
  logger: createLogger({ level: 'silent' }),
  upstream: DEFAULT_UPSTREAM_CONNECTION_OPTIONS,
  retryTimeoutMs: 1_000,
  createDiscovererClient: () => {
    throw new Error('not used');
  },
  cluster: () => undefined,
};
const staticConfig: StaticClusterConfig = { type: 'static', id: 'auth', address: '127.0.0.1:5001' };
const dynamicConfig: DynamicClusterConfig = {
  type: 'dynamic',
  id: 'workers',
  discovererUrl: 'http://127.0.0.1:8080',
  discovererIntervalMs: 1_000,
};

describe('DEFAULT_CLUSTER_FACTORIES', () => {
  it('builds the cluster of its own type', () => {
    const cluster = DEFAULT_CLUSTER_FACTORIES.static?.(staticConfig, context);
    expect(cluster).toBeInstanceOf(StaticCluster);
    cluster?.close();
  });

  it('refuses a cluster of another type, naming the cluster and both types', () => {
    expect(() => DEFAULT_CLUSTER_FACTORIES.static?.(dynamicConfig, context)).toThrow(
      'cluster workers: the static cluster factory got a cluster of type dynamic',
    );
    expect(() => DEFAULT_CLUSTER_FACTORIES.dynamic?.(staticConfig, context)).toThrow(
      'cluster auth: the dynamic cluster factory got a cluster of type static',
    );
  });
});

describe('ClusterManager.prepare (reload)', () => {
  const statics = (id: string, port: number): StaticClusterConfig => ({
    type: 'static',
    id,
    address: `127.0.0.1:${port}`,
  });

  it('keeps unchanged clusters, builds new and changed ones, retires the rest only on commit', async () => {
    const manager = new ClusterManager(
      [statics('kept', 1), statics('changed', 2), statics('removed', 3)],
      DEFAULT_CLUSTER_FACTORIES,
      context,
    );
    const kept = manager.get('kept');
    const oldChanged = manager.get('changed');
    const removed = manager.get('removed');
    const change = await manager.prepare([statics('kept', 1), statics('changed', 20), statics('added', 4)]);
    expect(change).toMatchObject({
      kept: ['kept'],
      changed: ['changed'],
      added: ['added'],
      removed: ['removed'],
    });
    // Nothing moves before the commit.
    expect(manager.get('removed')).toBe(removed);
    expect(manager.get('added')).toBeUndefined();
    expect(change.get('kept')).toBe(kept);

    const retired = change.commit();
    expect(manager.get('kept')).toBe(kept);
    expect(manager.get('changed')).not.toBe(oldChanged);
    expect(manager.get('added')).toBeDefined();
    expect(manager.get('removed')).toBeUndefined();
    expect(retired).toEqual(expect.arrayContaining([oldChanged, removed]));
    expect(retired).toHaveLength(2);
    for (const cluster of retired) cluster.close();
    manager.close();
  });

  it('discard closes what was built and leaves the manager as it was', async () => {
    const manager = new ClusterManager([statics('a', 1)], DEFAULT_CLUSTER_FACTORIES, context);
    const a = manager.get('a');
    const change = await manager.prepare([statics('b', 2)]);
    change.discard();
    expect(manager.get('a')).toBe(a);
    expect(manager.get('b')).toBeUndefined();
    manager.close();
  });
});
