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

/** The cluster's YAML `tls` on every connection to its instances. */
function withTls(upstream: UpstreamConnectionOptions, config: ClusterConfig): UpstreamConnectionOptions {
  return config.type === 'extension' || config.tls === undefined
    ? upstream
    : { ...upstream, tls: config.tls };
}

export const DEFAULT_CLUSTER_FACTORIES: Readonly<Record<string, ClusterFactory>> = Object.freeze({
  static: (config: ClusterConfig, context: ClusterContext) => {
    if (config.type !== 'static') throw factoryMismatch(config, 'static');
    return new StaticCluster(config, withTls(context.upstream, config));
  },
  dynamic: (config: ClusterConfig, context: ClusterContext) => {
    if (config.type !== 'dynamic') throw factoryMismatch(config, 'dynamic');
    const dynamic = config;
    // RETRY_TIMEOUT_MS bounds the opening of each attempt (REFERENCE.md 6.11), i.e. the connect.
    const upstream = { ...withTls(context.upstream, config), connectTimeoutMs: context.retryTimeoutMs };
    return new DynamicCluster(dynamic, context.createDiscovererClient(dynamic), context.logger, upstream);
  },
});

/**
 * A reload's effect on the clusters, prepared but not applied: `commit()` swaps it in (synchronously,
 * so that the caller can swap its routes in the same turn) and returns the clusters it retired, which
 * the caller drains then closes; `discard()` closes what was built instead.
 */
export interface ClusterChange {
  readonly added: readonly string[];
  /** Same id, new config: a new cluster replaces the old one. */
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  /** Unchanged: the very same cluster object (membership, connections, bindings) stays. */
  readonly kept: readonly string[];
  /** The cluster `id` will be once committed. */
  get(id: string): Cluster | undefined;
  commit(): Cluster[];
  discard(): void;
}

/** Every configured cluster (referenced or not, as the reference), by id. */
export class ClusterManager {
  private readonly clusters = new Map<string, Cluster>();
  /** The config each cluster was built from, serialised: what a reload compares. */
  private readonly builtFrom = new Map<string, string>();
  private retiredConnectionsCreated = 0;

  constructor(
    configs: readonly ClusterConfig[],
    private readonly factories: Readonly<Record<string, ClusterFactory>>,
    private readonly context: Omit<ClusterContext, 'cluster'>,
  ) {
    for (const config of configs) {
      this.clusters.set(
        config.id,
        this.build(config, (id) => this.clusters.get(id)),
      );
      this.builtFrom.set(config.id, JSON.stringify(config));
    }
  }

  get(id: string): Cluster | undefined {
    return this.clusters.get(id);
  }

  /** First membership load of every cluster, in parallel (a failure is logged by the cluster). */
  async start(): Promise<void> {
    await Promise.all([...this.clusters.values()].map((cluster) => cluster.start()));
  }

  /**
   * Builds the clusters of a reloaded config that are new or changed and waits for their first
   * membership load (so that the first call after the swap finds instances); the others are kept.
   */
  async prepare(configs: readonly ClusterConfig[]): Promise<ClusterChange> {
    const next = new Map<string, { cluster: Cluster; serialised: string; fresh: boolean }>();
    const added: string[] = [];
    const changed: string[] = [];
    const kept: string[] = [];
    try {
      for (const config of configs) {
        const serialised = JSON.stringify(config);
        const existing = this.clusters.get(config.id);
        if (existing !== undefined && this.builtFrom.get(config.id) === serialised) {
          next.set(config.id, { cluster: existing, serialised, fresh: false });
          kept.push(config.id);
          continue;
        }
        // A cluster built on others (weighted) finds the ones of the reloaded config.
        const lookup = (id: string) => next.get(id)?.cluster ?? this.clusters.get(id);
        next.set(config.id, { cluster: this.build(config, lookup), serialised, fresh: true });
        (existing === undefined ? added : changed).push(config.id);
      }
    } catch (error) {
      for (const entry of next.values()) if (entry.fresh) entry.cluster.close();
      throw error;
    }
    const fresh = [...next.values()].filter((entry) => entry.fresh).map((entry) => entry.cluster);
    await Promise.all(fresh.map((cluster) => cluster.start()));
    const removed = [...this.clusters.keys()].filter((id) => !next.has(id));
    return {
      added,
      changed,
      removed,
      kept,
      get: (id) => next.get(id)?.cluster,
      commit: () => {
        const retired = [...this.clusters].filter(([id, cluster]) => next.get(id)?.cluster !== cluster);
        this.clusters.clear();
        this.builtFrom.clear();
        for (const [id, entry] of next) {
          this.clusters.set(id, entry.cluster);
          this.builtFrom.set(id, entry.serialised);
        }
        for (const [, cluster] of retired) this.retiredConnectionsCreated += cluster.connectionsCreated;
        return retired.map(([, cluster]) => cluster);
      },
      discard: () => {
        for (const cluster of fresh) cluster.close();
      },
    };
  }

  close(): void {
    for (const cluster of this.clusters.values()) cluster.close();
  }

  get connectionsCreated(): number {
    let total = this.retiredConnectionsCreated;
    for (const cluster of this.clusters.values()) total += cluster.connectionsCreated;
    return total;
  }

  private build(config: ClusterConfig, lookup: (id: string) => Cluster | undefined): Cluster {
    const type = config.type === 'extension' ? config.extensionType : config.type;
    const factory = this.factories[type];
    if (factory === undefined) throw new Error(`cluster ${config.id}: no factory for type "${type}"`);
    return factory(config, { ...this.context, cluster: lookup });
  }
}
