import {
  DEFAULT_UPSTREAM_CONNECTION_OPTIONS,
  UpstreamConnection,
  type UpstreamConnectionOptions,
} from '../upstream/upstream-connection.js';
import type { Endpoint } from './endpoint.js';

/**
 * One `UpstreamConnection` per endpoint id, created lazily on first use. An endpoint whose address
 * changed (same id, new `host:port`) gets a fresh connection; the old one is closed.
 */
export class ConnectionPool {
  private readonly connections = new Map<string, UpstreamConnection>();
  private closedConnectionsCreated = 0;

  constructor(private readonly options: UpstreamConnectionOptions = DEFAULT_UPSTREAM_CONNECTION_OPTIONS) {}

  /** The connection to `endpoint`, creating it when missing. */
  get(endpoint: Endpoint): UpstreamConnection {
    const existing = this.connections.get(endpoint.id);
    if (existing !== undefined && existing.authority === endpoint.authority && existing.state !== 'closed')
      return existing;
    if (existing !== undefined) this.retire(existing);
    const created = new UpstreamConnection(endpoint.authority, endpoint.host, endpoint.port, this.options);
    this.connections.set(endpoint.id, created);
    return created;
  }

  /** Closes and forgets the connection of `endpointId` (its in-flight streams fail). */
  close(endpointId: string): void {
    const connection = this.connections.get(endpointId);
    if (connection === undefined) return;
    this.connections.delete(endpointId);
    this.retire(connection);
  }

  closeAll(): void {
    for (const connection of this.connections.values()) this.retire(connection);
    this.connections.clear();
  }

  /** HTTP/2 connections ever created by this pool, including closed ones. */
  get connectionsCreated(): number {
    let total = this.closedConnectionsCreated;
    for (const connection of this.connections.values()) total += connection.connectionsCreated;
    return total;
  }

  private retire(connection: UpstreamConnection): void {
    this.closedConnectionsCreated += connection.connectionsCreated;
    connection.close();
  }
}
