import type { DynamicClusterConfig, OutlierDetectionConfig } from '../config/types.js';
import type { GatewayError } from '../grpc/gateway-error.js';
import type { Logger } from '../observability/logger.js';
import { checkHealth, type HealthCheckOutcome } from '../upstream/health-check-call.js';
import type { UpstreamConnection, UpstreamConnectionOptions } from '../upstream/upstream-connection.js';
import {
  type Cluster,
  type ClusterSnapshot,
  type EndpointsRemovedListener,
  type InstanceStatus,
  type RemovalCause,
  snapshotOf,
} from './cluster.js';
import { ConnectionPool } from './connection-pool.js';
import type { DiscoveredInstance, DiscovererClient } from './discoverer-client.js';
import { type Endpoint, makeEndpoint } from './endpoint.js';
import { HealthChecker } from './health-checker.js';

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
 * - `health_check` (YAML): an instance failing its active checks is out of the snapshot (no new
 *   sessions, no round-robin picks, its binding dropped as after a failure: the session transfers
 *   on its next call) until it passes `healthy_threshold` checks in a row.
 * - `outlier_detection` (YAML): `consecutive_failures` transport failures in a row (reported ones,
 *   with no answered call between them) eject the instance for `base_ejection_ms` times its
 *   ejection count, at most `max_ejection_ms`, even while discovery lists it; the count starts again
 *   once the instance has stayed in for `max_ejection_ms`.
 * - `setDrained`: a drained instance is offered to no new session but stays in `byId` for the
 *   session bound to it.
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
  /** One active health check (default: `grpc.health.v1.Health/Check` on the pooled connection). */
  readonly checkHealth?: (endpoint: Endpoint, connection: UpstreamConnection) => Promise<HealthCheckOutcome>;
}

/** Outlier detection's record of one instance id (kept across discovery rounds). */
interface OutlierRecord {
  consecutiveFailures: number;
  ejections: number;
  /** Epoch ms the current ejection ends; 0 = not ejected. */
  ejectedUntil: number;
  /** When the last ejection ended (for forgetting old ejections). */
  returnedAt: number;
  timer: NodeJS.Timeout | undefined;
}

export class DynamicCluster implements Cluster {
  readonly id: string;
  readonly failover = true;
  private current: ClusterSnapshot = snapshotOf([]);
  /** Discovered members, in discoverer order, minus those ejected by a failure since the last round. */
  private listed: readonly Endpoint[] = [];
  private readonly drained = new Set<string>();
  private readonly outliers = new Map<string, OutlierRecord>();
  private readonly outlierConfig: OutlierDetectionConfig | undefined;
  private readonly healthChecker: HealthChecker | undefined;
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
    /** No discoverer URL or token: a cluster type over another registry builds one too. */
    private readonly config: Pick<
      DynamicClusterConfig,
      'id' | 'discovererIntervalMs' | 'healthCheck' | 'outlierDetection'
    >,
    private readonly discoverer: DiscovererClient,
    private readonly logger: Logger,
    upstreamOptions?: UpstreamConnectionOptions,
    options: DynamicClusterOptions = {},
  ) {
    this.id = config.id;
    this.pool = new ConnectionPool(upstreamOptions);
    this.vanishedRetentionMs = options.vanishedRetentionMs ?? DEFAULT_VANISHED_RETENTION_MS;
    this.now = options.now ?? Date.now;
    this.outlierConfig = config.outlierDetection;
    const health = config.healthCheck;
    if (health !== undefined) {
      const check =
        options.checkHealth ??
        ((_endpoint: Endpoint, connection: UpstreamConnection) =>
          checkHealth(connection, health.service, health.timeoutMs));
      this.healthChecker = new HealthChecker(
        health,
        (endpoint) => check(endpoint, this.pool.get(endpoint)),
        (id, healthy, failure) => this.healthChanged(id, healthy, failure),
      );
    }
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
    this.healthChecker?.start();
  }

  /** One round of active health checks now (tests drive rounds instead of waiting for the timer). */
  checkHealthNow(): void {
    this.healthChecker?.round();
  }

  setDrained(endpointId: string, drained: boolean): boolean {
    if (!this.knows(endpointId)) return false;
    if (drained === this.drained.has(endpointId)) return true;
    if (drained) this.drained.add(endpointId);
    else this.drained.delete(endpointId);
    this.logger.info(
      { cluster: this.id, endpoint: endpointId },
      drained ? 'instance drained' : 'instance undrained',
    );
    this.publish();
    return true;
  }

  instances(): readonly InstanceStatus[] {
    const statusOf = (endpoint: Endpoint, retained: boolean): InstanceStatus => {
      const address = endpoint.authority;
      const ejectedBy = this.ejectionOf(endpoint.id);
      if (ejectedBy !== undefined) return { id: endpoint.id, address, state: 'ejected', ejectedBy };
      if (this.drained.has(endpoint.id)) return { id: endpoint.id, address, state: 'draining' };
      return { id: endpoint.id, address, state: retained ? 'retained' : 'free' };
    };
    return [
      ...this.listed.map((endpoint) => statusOf(endpoint, false)),
      ...this.retained.map((endpoint) => statusOf(endpoint, true)),
    ];
  }

  reportSuccess(endpoint: Endpoint): void {
    if (this.outlierConfig === undefined) return;
    const record = this.outliers.get(endpoint.id);
    if (record !== undefined) record.consecutiveFailures = 0;
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
    this.countTransportFailure(endpoint.id);
    this.retained = this.retained.filter((candidate) => candidate !== endpoint);
    this.listed = this.listed.filter((candidate) => candidate !== endpoint);
    this.vanishedAt.delete(endpoint.id);
    this.publish();
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
    this.healthChecker?.stop();
    for (const record of this.outliers.values()) clearTimeout(record.timer);
    this.pool.closeAll();
  }

  private knows(endpointId: string): boolean {
    return (
      this.listed.some((endpoint) => endpoint.id === endpointId) ||
      this.retained.some((endpoint) => endpoint.id === endpointId)
    );
  }

  /** Why `endpointId` is out of rotation and unbindable, if it is. */
  private ejectionOf(endpointId: string): InstanceStatus['ejectedBy'] {
    if (this.healthChecker !== undefined && !this.healthChecker.isHealthy(endpointId)) return 'health_check';
    if ((this.outliers.get(endpointId)?.ejectedUntil ?? 0) > 0) return 'outlier_detection';
    return undefined;
  }

  /**
   * Publishes the snapshot of the current state: listed instances neither ejected nor drained are
   * offered; drained and retained ones are reachable by id only; ejected ones not at all.
   */
  private publish(): void {
    const offered: Endpoint[] = [];
    const byIdOnly: Endpoint[] = [];
    for (const endpoint of this.listed) {
      if (this.ejectionOf(endpoint.id) !== undefined) continue;
      if (this.drained.has(endpoint.id)) byIdOnly.push(endpoint);
      else offered.push(endpoint);
    }
    for (const endpoint of this.retained)
      if (this.ejectionOf(endpoint.id) === undefined) byIdOnly.push(endpoint);
    this.current = snapshotOf(offered, byIdOnly);
    this.healthChecker?.track([...this.listed, ...this.retained]);
  }

  private healthChanged(
    endpointId: string,
    healthy: boolean,
    failure: { readonly reason: string; readonly answered: boolean } | undefined,
  ): void {
    if (this.closed) return;
    this.publish();
    if (healthy) {
      this.logger.info({ cluster: this.id, endpoint: endpointId }, 'instance passes its health checks again');
      return;
    }
    this.logger.warn(
      { cluster: this.id, endpoint: endpointId, reason: failure?.reason },
      'instance ejected: failing its health checks',
    );
    // An instance that does not answer at all (frozen, wedged) holds its in-flight calls until the
    // keepalive gives up (30-40 s): closing its connection moves them now, as a failure does. One
    // that answers NOT_SERVING still serves them.
    if (failure?.answered === false) this.pool.close(endpointId);
    this.notifyRemoved([endpointId], 'failed');
  }

  private countTransportFailure(endpointId: string): void {
    const config = this.outlierConfig;
    if (config === undefined) return;
    let record = this.outliers.get(endpointId);
    if (record === undefined) {
      record = { consecutiveFailures: 0, ejections: 0, ejectedUntil: 0, returnedAt: 0, timer: undefined };
      this.outliers.set(endpointId, record);
    }
    if (record.ejectedUntil > 0) return;
    record.consecutiveFailures++;
    if (record.consecutiveFailures < config.consecutiveFailures) return;
    const now = this.now();
    // Envoy's multiplier, simplified: an instance that stayed in for a whole max period starts over.
    if (record.returnedAt > 0 && now - record.returnedAt >= config.maxEjectionMs) record.ejections = 0;
    record.ejections++;
    record.consecutiveFailures = 0;
    const periodMs = Math.min(config.baseEjectionMs * record.ejections, config.maxEjectionMs);
    record.ejectedUntil = now + periodMs;
    const ejected = record;
    ejected.timer = setTimeout(() => {
      ejected.timer = undefined;
      ejected.ejectedUntil = 0;
      ejected.returnedAt = this.now();
      if (this.closed) return;
      this.logger.info({ cluster: this.id, endpoint: endpointId }, 'outlier ejection ended');
      this.publish();
    }, periodMs);
    ejected.timer.unref();
    this.logger.warn(
      { cluster: this.id, endpoint: endpointId, ejections: record.ejections, periodMs },
      'instance ejected by outlier detection',
    );
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
    const known = new Map<string, Endpoint>();
    for (const endpoint of this.retained) known.set(endpoint.id, endpoint);
    for (const endpoint of this.listed) known.set(endpoint.id, endpoint);
    const next: Endpoint[] = [];
    const kept = new Set<Endpoint>();
    const seen = new Set<string>();
    for (const instance of instances) {
      if (seen.has(instance.id)) continue;
      seen.add(instance.id);
      const same = known.get(instance.id);
      // Keep the published object when nothing changed: identity is what reportFailure compares.
      if (same !== undefined && same.host === instance.host && same.port === instance.port) {
        next.push(same);
        kept.add(same);
        this.vanishedAt.delete(same.id);
      } else {
        next.push(makeEndpoint(instance.id, instance.host, instance.port));
      }
    }
    const now = this.now();
    const retained: Endpoint[] = [];
    const removed: string[] = [];
    for (const endpoint of known.values()) {
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
      next.length === this.listed.length &&
      next.every((endpoint, i) => this.listed[i] === endpoint) &&
      retained.length === this.retained.length &&
      retained.every((endpoint, i) => this.retained[i] === endpoint);
    if (sameOrder) return;
    this.retained = retained;
    this.listed = next;
    this.publish();
    for (const id of removed) {
      this.pool.close(id);
      // Gone from the registry: its run of failures ends here (an ejection still runs its course).
      if (this.outliers.get(id)?.ejectedUntil === 0) this.outliers.delete(id);
    }
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
