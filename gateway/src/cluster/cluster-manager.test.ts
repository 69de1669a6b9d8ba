import { describe, expect, it } from 'vitest';
import type { DynamicClusterConfig, StaticClusterConfig } from '../config/types.js';
import { createLogger } from '../observability/logger.js';
import { DEFAULT_UPSTREAM_CONNECTION_OPTIONS } from '../upstream/upstream-connection.js';
import { type ClusterContext, DEFAULT_CLUSTER_FACTORIES } from './cluster-manager.js';
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
