import type { DynamicClusterConfig } from '../config/types.js';
import type { GatewayError } from '../grpc/gateway-error.js';
import type { Logger } from '../observability/logger.js';
import type { UpstreamConnection, UpstreamConnectionOptions } from '../upstream/upstream-connection.js';
import {
  type Cluster,
  type ClusterSnapshot,
  type EndpointsRemovedListener,
  type RemovalCause,
  snapshotOf,
} from './cluster.js';
import { ConnectionPool } from './connection-pool.js';
import type { DiscoveredInstance, DiscovererClient } from './discoverer-client.js';
import { type Endpoint, makeEndpoint } from './endpoint.js';

/**
 * A dynamic cluster (REFERENCE.md 6.7, 6.8, 6.10): membership comes from a `DiscovererClient`, refreshed on
 * start-up and then every `discoverer_interval_ms` on an unref'd timer, never on the request path.
 *
 * - A successful fetch replaces the list (discoverer order). Endpoints that vanished, or whose
 *   address changed, have their upstream connection closed (calls on it fail over) and are announced
 *   to `onEndpointsRemoved` listeners (session affinity drops their bindings). An instance ejected
 *   earlier comes back if the discoverer still lists it.
 * - Except a vanished endpoint that is pinned (`retainPinned`: a session is bound to it): it is
 *   retained, reachable for that session only, until it is listed again, fails, is no longer pinned,
 *   or has been gone for `vanishedRetentionMs`. The registry forgetting a live instance (Redis
 *   restarted empty) must not move its session onto an instance that may hold another one.
 * - A failed fetch (network, non-200/404 status, bad body) keeps the current list; 404 is an empty list.
 * - `reportFailure` ejects the endpoint until the next successful refresh: new snapshot without it,
 *   connection closed, listeners told, and `unregister` sent in the background (errors ignored) unless
 *   the discoverer already lists the id at another address (the instance restarted elsewhere).
 */
/**
 * How long a pinned endpoint is retained after it left discovery. Workers re-register at least every
 * heartbeat (120 s by default), so a live instance is listed again well before; one still missing
 * after this is gone for good, and its session's next call moves it anyway.
 */
const DEFAULT_VANISHED_RETENTION_MS = 10 * 60_000;

export interface DynamicClusterOptions {
  readonly vanishedRetentionMs?: number;
  /** Milliseconds; injected by tests. */
  readonly now?: () => number;
}

export class DynamicCluster implements Cluster {
  readonly id: string;
  readonly failover = true;
  private current: ClusterSnapshot = snapshotOf([]);
  private readonly pool: ConnectionPool;
  private readonly listeners: EndpointsRemovedListener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private closed = false;
  private lastRefreshFailed = false;
  private discoveredOnce = false;
  /** Vanished but pinned endpoints, in `current.byId` only. */
  private retained: readonly Endpoint[] = [];
  /** When each retained endpoint was first missing from a successful fetch. */
  private readonly vanishedAt = new Map<string, number>();
  private pinned: ((endpointId: string) => boolean) | undefined;
  private readonly vanishedRetentionMs: number;
  private readonly now: () => number;

  constructor(
    private readonly config: DynamicClusterConfig,
    private readonly discoverer: DiscovererClient,
    private readonly logger: Logger,
    upstreamOptions?: UpstreamConnectionOptions,
    options: DynamicClusterOptions = {},
  ) {
    this.id = config.id;
    this.pool = new ConnectionPool(upstreamOptions);
    this.vanishedRetentionMs = options.vanishedRetentionMs ?? DEFAULT_VANISHED_RETENTION_MS;
    this.now = options.now ?? Date.now;
  }

  get discovered(): boolean {
    return this.discoveredOnce;
  }

  get snapshot(): ClusterSnapshot {
    return this.current;
  }

  connection(endpoint: Endpoint): UpstreamConnection {
    return this.pool.get(endpoint);
  }

  onEndpointsRemoved(listener: EndpointsRemovedListener): void {
    this.listeners.push(listener);
  }

  retainPinned(pinned: (endpointId: string) => boolean): void {
    this.pinned = pinned;
  }

  async start(): Promise<void> {
    await this.refresh();
    if (this.closed) return;
    this.timer = setInterval(() => void this.refresh(), this.config.discovererIntervalMs);
    this.timer.unref();
  }

  /** One discovery round; concurrent callers share it. Never rejects. */
  refresh(): Promise<void> {
    if (this.refreshing === undefined) {
      this.refreshing = this.runRefresh().finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  reportFailure(endpoint: Endpoint, error: GatewayError): void {
    // Another call may already have ejected it (all calls on a dead connection fail together), or a
    // refresh may have replaced it: only the endpoint object still published is ejected.
    if (this.closed || this.current.byId.get(endpoint.id) !== endpoint) return;
    this.retained = this.retained.filter((candidate) => candidate !== endpoint);
    this.vanishedAt.delete(endpoint.id);
    this.current = snapshotOf(
      this.current.endpoints.filter((candidate) => candidate !== endpoint),
      this.retained,
    );
    this.pool.close(endpoint.id);
    this.logger.warn(
      {
        cluster: this.id,
        endpoint: endpoint.id,
        address: endpoint.authority,
        reason: error.reason,
        err: error.message,
      },
      'endpoint ejected after a transport failure',
    );
    this.notifyRemoved([endpoint.id], 'failed');
    this.unregisterUnlessMoved(endpoint).then(
      (unregistered) =>
        this.logger.debug(
          { cluster: this.id, endpoint: endpoint.id, unregistered },
          unregistered ? 'endpoint unregistered at the discoverer' : 'endpoint re-registered elsewhere, kept',
        ),
      (err: unknown) =>
        this.logger.debug(
          { cluster: this.id, endpoint: endpoint.id, err: String(err) },
          'unregister failed (ignored)',
        ),
    );
  }

  /**
   * Unregisters the failed endpoint's id, unless the registry now lists that id at another address:
   * the instance restarted elsewhere and re-registered before this cluster refreshed, and deleting
   * its entry would hide a live instance until its next heartbeat (minutes). The registry cannot
   * delete conditionally, so the check and the delete are two requests; the window between them is
   * far shorter than the one closed here. If the check itself fails, the id is unregistered.
   */
  private async unregisterUnlessMoved(endpoint: Endpoint): Promise<boolean> {
    let listed: readonly DiscoveredInstance[] | undefined;
    try {
      listed = await this.discoverer.fetchInstances();
    } catch {
      listed = undefined;
    }
    const entry = listed?.find((instance) => instance.id === endpoint.id);
    if (entry !== undefined && (entry.host !== endpoint.host || entry.port !== endpoint.port)) return false;
    await this.discoverer.unregister(endpoint.id);
    return true;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.pool.closeAll();
  }

  get connectionsCreated(): number {
    return this.pool.connectionsCreated;
  }

  private async runRefresh(): Promise<void> {
    let instances: readonly DiscoveredInstance[];
    try {
      instances = await this.discoverer.fetchInstances();
    } catch (err) {
      if (!this.closed) {
        this.logger.warn(
          {
            cluster: this.id,
            err: err instanceof Error ? err.message : String(err),
            endpoints: this.current.endpoints.length,
          },
          'discovery failed, keeping the last known endpoints',
        );
        this.lastRefreshFailed = true;
      }
      return;
    }
    if (this.closed) return;
    if (this.lastRefreshFailed) {
      this.lastRefreshFailed = false;
      this.logger.info({ cluster: this.id }, 'discovery recovered');
    }
    this.apply(instances);
    this.discoveredOnce = true;
  }

  private apply(instances: readonly DiscoveredInstance[]): void {
    const previous = this.current;
    const next: Endpoint[] = [];
    const kept = new Set<Endpoint>();
    const seen = new Set<string>();
    for (const instance of instances) {
      if (seen.has(instance.id)) continue;
      seen.add(instance.id);
      const known = previous.byId.get(instance.id);
      // Keep the published object when nothing changed: identity is what reportFailure compares.
      if (known !== undefined && known.host === instance.host && known.port === instance.port) {
        next.push(known);
        kept.add(known);
        this.vanishedAt.delete(known.id);
      } else {
        next.push(makeEndpoint(instance.id, instance.host, instance.port));
      }
    }
    const now = this.now();
    const retained: Endpoint[] = [];
    const removed: string[] = [];
    for (const endpoint of previous.byId.values()) {
      if (kept.has(endpoint)) continue;
      if (!seen.has(endpoint.id) && this.pinned?.(endpoint.id) === true) {
        const since = this.vanishedAt.get(endpoint.id) ?? now;
        if (now - since < this.vanishedRetentionMs) {
          this.vanishedAt.set(endpoint.id, since);
          retained.push(endpoint);
          continue;
        }
      }
      this.vanishedAt.delete(endpoint.id);
      removed.push(endpoint.id);
    }
    const sameOrder =
      next.length === previous.endpoints.length &&
      next.every((endpoint, i) => previous.endpoints[i] === endpoint) &&
      retained.length === this.retained.length &&
      retained.every((endpoint, i) => this.retained[i] === endpoint);
    if (sameOrder) return;
    this.retained = retained;
    this.current = snapshotOf(next, retained);
    for (const id of removed) this.pool.close(id);
    this.logger.info(
      {
        cluster: this.id,
        endpoints: next.map((endpoint) => endpoint.id),
        removed,
        retained: retained.map((endpoint) => endpoint.id),
      },
      'cluster membership changed',
    );
    if (removed.length > 0) this.notifyRemoved(removed, 'left');
  }

  private notifyRemoved(ids: readonly string[], cause: RemovalCause): void {
    for (const listener of this.listeners) listener(ids, cause);
  }
}
