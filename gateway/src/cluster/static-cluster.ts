import type { StaticClusterConfig } from '../config/types.js';
import type { UpstreamConnection, UpstreamConnectionOptions } from '../upstream/upstream-connection.js';
import { type Cluster, type ClusterSnapshot, snapshotOf } from './cluster.js';
import { ConnectionPool } from './connection-pool.js';
import { type Endpoint, makeEndpoint, parseAddress } from './endpoint.js';

/**
 * One fixed address (REFERENCE.md 6.7): one pooled HTTP/2 connection, created on first use and
 * re-created on demand after it drops. No ejection, retries or transfer; the endpoint id is the
 * cluster id.
 */
export class StaticCluster implements Cluster {
  readonly id: string;
  readonly failover = false;
  readonly snapshot: ClusterSnapshot;
  private readonly pool: ConnectionPool;

  constructor(config: StaticClusterConfig, upstreamOptions?: UpstreamConnectionOptions) {
    const { host, port } = parseAddress(config.address);
    this.id = config.id;
    this.snapshot = snapshotOf([makeEndpoint(config.id, host, port)]);
    this.pool = new ConnectionPool(upstreamOptions);
  }

  connection(endpoint: Endpoint): UpstreamConnection {
    return this.pool.get(endpoint);
  }

  reportFailure(): void {}

  onEndpointsRemoved(): void {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    this.pool.closeAll();
  }

  get connectionsCreated(): number {
    return this.pool.connectionsCreated;
  }
}
