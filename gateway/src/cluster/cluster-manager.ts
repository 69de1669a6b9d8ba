import type { ClusterConfig, DynamicClusterConfig } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { UpstreamConnectionOptions } from '../upstream/upstream-connection.js';
import type { Cluster } from './cluster.js';
import type { DiscovererClient } from './discoverer-client.js';
import { DynamicCluster } from './dynamic-cluster.js';
import { HttpDiscovererClient } from './http-discoverer-client.js';
import { StaticCluster } from './static-cluster.js';

/** What a cluster factory gets besides its own config. */
export interface ClusterContext {
  readonly logger: Logger;
  /** Upstream connection tuning; for dynamic clusters `connectTimeoutMs` is RETRY_TIMEOUT_MS. */
  readonly upstream: UpstreamConnectionOptions;
  readonly retryTimeoutMs: number;
  /** Builds the discoverer client of a dynamic cluster. */
  readonly createDiscovererClient: (config: DynamicClusterConfig) => DiscovererClient;
  /**
   * Another configured cluster, by id. Every cluster exists only once all factories have run, so
   * a cluster built on others looks them up in its `start()`, not in its factory.
   */
  readonly cluster: (id: string) => Cluster | undefined;
}

/** Builds a cluster of one `type` (extension point: replace or add cluster types in `createGateway`). */
export type ClusterFactory = (config: ClusterConfig, context: ClusterContext) => Cluster;

export function createHttpDiscovererClient(config: DynamicClusterConfig, logger: Logger): DiscovererClient {
  const source = config.discovererTokenSource;
  const tokenSetting =
    source?.file !== undefined
      ? `discoverer_token_file ${source.file}`
      : source?.env !== undefined
        ? `discoverer_token_env ${source.env}`
        : 'no discoverer_token_file or discoverer_token_env';
  return new HttpDiscovererClient(config.discovererUrl, {
    ...(config.discovererToken === undefined ? {} : { token: config.discovererToken }),
    onInvalidEntries: (count, example) =>
      logger.warn({ cluster: config.id, count, example }, 'discoverer listed malformed instances (skipped)'),
    onUnauthorized: (operation) =>
      logger.error(
        { cluster: config.id, operation, discovererUrl: config.discovererUrl },
        `the discoverer refused this gateway's token (HTTP 401; cluster ${config.id} has ${tokenSetting})`,
      ),
  });
}

/** A factory registered under one type was handed a cluster of another (a wiring mistake in `createGateway`). */
function factoryMismatch(config: ClusterConfig, expected: string): Error {
  return new Error(
    `cluster ${config.id}: the ${expected} cluster factory got a cluster of type ${config.type}`,
  );
}

export const DEFAULT_CLUSTER_FACTORIES: Readonly<Record<string, ClusterFactory>> = Object.freeze({
  static: (config: ClusterConfig, context: ClusterContext) => {
    if (config.type !== 'static') throw factoryMismatch(config, 'static');
    return new StaticCluster(config, context.upstream);
  },
  dynamic: (config: ClusterConfig, context: ClusterContext) => {
    if (config.type !== 'dynamic') throw factoryMismatch(config, 'dynamic');
    const dynamic = config;
    // RETRY_TIMEOUT_MS bounds the opening of each attempt (REFERENCE.md 6.11), i.e. the connect.
    const upstream = { ...context.upstream, connectTimeoutMs: context.retryTimeoutMs };
    return new DynamicCluster(dynamic, context.createDiscovererClient(dynamic), context.logger, upstream);
  },
});

/** Every configured cluster (referenced or not, as the reference), by id. */
export class ClusterManager {
  private readonly clusters = new Map<string, Cluster>();

  constructor(
    configs: readonly ClusterConfig[],
    factories: Readonly<Record<string, ClusterFactory>>,
    context: Omit<ClusterContext, 'cluster'>,
  ) {
    const withLookup: ClusterContext = { ...context, cluster: (id) => this.clusters.get(id) };
    for (const config of configs) {
      const type = config.type === 'extension' ? config.extensionType : config.type;
      const factory = factories[type];
      if (factory === undefined) throw new Error(`cluster ${config.id}: no factory for type "${type}"`);
      this.clusters.set(config.id, factory(config, withLookup));
    }
  }

  get(id: string): Cluster | undefined {
    return this.clusters.get(id);
  }

  /** First membership load of every cluster, in parallel (a failure is logged by the cluster). */
  async start(): Promise<void> {
    await Promise.all([...this.clusters.values()].map((cluster) => cluster.start()));
  }

  close(): void {
    for (const cluster of this.clusters.values()) cluster.close();
  }

  get connectionsCreated(): number {
    let total = 0;
    for (const cluster of this.clusters.values()) total += cluster.connectionsCreated;
    return total;
  }
}
