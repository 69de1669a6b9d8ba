import type { ActionResult, AdminCluster, AdminInstance, AdminView } from './admin/admin-view.js';
import type { Balancer } from './balancer/balancer.js';
import { ExclusiveStickyBalancer } from './balancer/exclusive-sticky-balancer.js';
import { InMemorySessionStore } from './balancer/in-memory-session-store.js';
import { RedisSessionStores } from './balancer/redis-session-store.js';
import { RoundRobinBalancer } from './balancer/round-robin-balancer.js';
import type { SessionStore } from './balancer/session-store.js';
import type { Cluster, InstanceStatus } from './cluster/cluster.js';
import {
  type ClusterFactory,
  ClusterManager,
  createHttpDiscovererClient,
  DEFAULT_CLUSTER_FACTORIES,
} from './cluster/cluster-manager.js';
import type { DiscovererClient } from './cluster/discoverer-client.js';
import type { DynamicClusterConfig, GatewayConfig } from './config/types.js';
import type { HeaderFilter } from './filters/header-filter.js';
import { Hs256TokenValidator, type TokenValidator } from './filters/hs256-token-validator.js';
import { JwtAuthFilter } from './filters/jwt-auth-filter.js';
import { GrpcListener } from './listener/grpc-listener.js';
import type { AccessLog } from './observability/access-log.js';
import { createLogger, type Logger } from './observability/logger.js';
import type { ClusterGauges, GatewayMetrics } from './observability/metrics.js';
import { Pipeline, type RouteRuntime } from './pipeline.js';
import type { ProxySettings } from './proxy/proxy-call.js';
import { retryPolicyFor } from './proxy/retry-policy.js';
import { type Route, RouteTable } from './routing/route-table.js';
import { strippedRequestHeaders } from './routing/stripped-request-headers.js';
import {
  DEFAULT_UPSTREAM_CONNECTION_OPTIONS,
  type UpstreamConnectionOptions,
} from './upstream/upstream-connection.js';

/**
 * The extension points (README "Extending the gateway"). Each is optional; the defaults reproduce
 * the reference. A user implements the interface and passes it here, in the composition root
 * (`main.ts` or their own).
 */
export interface GatewayDeps {
  readonly logger?: Logger;
  /** One line per finished call; `undefined` = none. */
  readonly accessLog?: AccessLog;
  /** Extra header filters (filters/header-filter.ts), run after the built-in JWT check on every route, in order. */
  readonly headerFilters?: readonly HeaderFilter[];
  /** Token check of `authorization: required` routes (default: HS256 with JWT_SECRET). */
  readonly tokenValidator?: TokenValidator;
  /** Discoverer client of a dynamic cluster (default: the reference discoverer's HTTP API). */
  readonly createDiscovererClient?: (config: DynamicClusterConfig) => DiscovererClient;
  /**
   * Balancer of a route over a failover cluster (default: round_robin, or exclusive sticky sessions
   * over the cluster's session store). Static clusters have a single endpoint and always use round robin.
   */
  readonly createBalancer?: (route: Route, cluster: Cluster, sessions: SessionStore) => Balancer;
  /** Sticky bindings of one cluster (default: `session_store` of the config, in memory unless redis). */
  readonly createSessionStore?: (cluster: Cluster) => SessionStore;
  /** Cluster types by YAML `type`, merged over the built-in `static` and `dynamic`. */
  readonly clusterTypes?: Readonly<Record<string, ClusterFactory>>;
  /** Upstream HTTP/2 connection tuning (connect timeout of static clusters, keepalive). */
  readonly upstream?: Partial<UpstreamConnectionOptions>;
  /** Prometheus metrics of the calls (`main.ts` creates them with the admin listener); undefined = none. */
  readonly metrics?: GatewayMetrics;
}

/** Counters for tests and operators. */
export interface GatewayStats {
  /** Upstream HTTP/2 connections created since start (a silent reconnect shows here). */
  readonly upstreamConnectionsCreated: number;
  /** Open downstream HTTP/2 connections. */
  readonly downstreamConnections: number;
  /** Sticky bindings, over every cluster. */
  readonly stickyBindings: number;
}

export interface Gateway {
  /** First discovery of every cluster (failures are logged), then listen. Resolves with the bound port. */
  start(): Promise<number>;
  /** Graceful shutdown (REFERENCE.md 6.14): GOAWAY, in-flight calls get `graceMs`, then everything closes. */
  close(graceMs?: number): Promise<void>;
  stats(): GatewayStats;
  /**
   * Every cluster's instances with their state (`free`, `bound`, `retained`, `ejected`, `draining`)
   * and the session bound to each, in config order; for metrics and the admin page.
   */
  instances(): readonly ClusterInstances[];
  /**
   * Drains instance `instanceId` of cluster `clusterId`: no new sessions or round-robin picks; a
   * session bound to it keeps it. False when the cluster or the instance is unknown (or the cluster
   * type cannot drain). Lasts until `undrainInstance`.
   */
  drainInstance(clusterId: string, instanceId: string): boolean;
  /** Offers a drained instance again; false when the cluster or the instance is unknown. */
  undrainInstance(clusterId: string, instanceId: string): boolean;
  /** What the admin listener shows: routes, clusters and instances, bindings, readiness. */
  readonly view: AdminView;
  /** Drops `session`'s binding in `cluster`, for every gateway sharing the store (admin action). */
  releaseSession(cluster: string, session: string): ActionResult;
  readonly config: GatewayConfig;
}

export interface ClusterInstances {
  readonly cluster: string;
  readonly instances: readonly InstanceStatus[];
}

export function defaultBalancer(route: Route, cluster: Cluster, sessions: SessionStore): Balancer {
  if (cluster.failover && route.balancer.type === 'sticky_sessions') {
    return new ExclusiveStickyBalancer(
      route.balancer.header,
      sessions,
      route.sessionIdleTimeoutMs !== undefined,
    );
  }
  return new RoundRobinBalancer();
}

/** Wires the modules for one configuration. No protocol logic lives here. */
export function createGateway(config: GatewayConfig, deps: GatewayDeps = {}): Gateway {
  const logger = deps.logger ?? createLogger();
  const upstream: UpstreamConnectionOptions = {
    ...DEFAULT_UPSTREAM_CONNECTION_OPTIONS,
    log: logger,
    ...deps.upstream,
  };
  const clusters = new ClusterManager(
    config.clusters,
    { ...DEFAULT_CLUSTER_FACTORIES, ...deps.clusterTypes },
    {
      logger,
      upstream,
      retryTimeoutMs: config.retryTimeoutMs,
      createDiscovererClient:
        deps.createDiscovererClient ?? ((cluster) => createHttpDiscovererClient(cluster, logger)),
    },
  );

  const stores = new Map<string, SessionStore>();
  const redisStores =
    deps.createSessionStore === undefined && config.sessionStore.type === 'redis'
      ? new RedisSessionStores(config.sessionStore.url, logger)
      : undefined;
  const createSessionStore =
    deps.createSessionStore ??
    ((cluster: Cluster) => redisStores?.storeFor(cluster.id) ?? new InMemorySessionStore());
  const sessionsOf = (cluster: Cluster): SessionStore => {
    let store = stores.get(cluster.id);
    if (store === undefined) {
      store = createSessionStore(cluster);
      const created = store;
      // An endpoint that leaves the cluster (ejected, vanished, re-addressed) loses its binding;
      // one that merely vanished from discovery while bound is retained for its session instead.
      cluster.onEndpointsRemoved((ids, cause) => {
        for (const id of ids) created.unbindEndpoint(id, cause);
      });
      cluster.retainPinned?.((id) => created.keyOf(id) !== undefined);
      stores.set(cluster.id, store);
    }
    return store;
  };
  const idleSweeps: NodeJS.Timeout[] = [];
  const sweepIdle = (store: SessionStore, idleMs: number): void => {
    const sweep = setInterval(() => store.releaseIdle(idleMs), Math.max(1, Math.min(idleMs / 4, 10_000)));
    sweep.unref();
    idleSweeps.push(sweep);
  };

  const needsJwt = config.routes.some((route) => route.authorization === 'required');
  let jwtFilter: HeaderFilter | undefined;
  if (needsJwt) {
    const validator =
      deps.tokenValidator ??
      new Hs256TokenValidator(config.jwtSecret ?? '', { previousSecret: config.jwtPreviousSecret });
    jwtFilter = new JwtAuthFilter(validator);
  }
  const extraFilters = deps.headerFilters ?? [];
  const createBalancer = deps.createBalancer ?? defaultBalancer;

  const runtimeFor = (route: Route): RouteRuntime => {
    const cluster = clusters.get(route.cluster);
    if (cluster === undefined) throw new Error(`route ${route.prefix}: unknown cluster "${route.cluster}"`);
    const filters =
      route.authorization === 'required' && jwtFilter !== undefined
        ? [jwtFilter, ...extraFilters]
        : [...extraFilters];
    const sessions = sessionsOf(cluster);
    if (route.sessionIdleTimeoutMs !== undefined && route.balancer.type === 'sticky_sessions') {
      sweepIdle(sessions, route.sessionIdleTimeoutMs);
    }
    return {
      target: {
        route,
        cluster,
        balancer: createBalancer(route, cluster, sessions),
        retry: retryPolicyFor(cluster, config.retryCount),
        strippedRequestHeaders: strippedRequestHeaders(route),
        metrics: deps.metrics?.upstream(cluster.id),
      },
      filters,
    };
  };

  const runtimes = new Map<string, RouteRuntime>();
  for (const route of config.routes) runtimes.set(route.prefix, runtimeFor({ ...route, isDefault: false }));
  const defaultRuntime =
    config.default.action === 'use_cluster'
      ? runtimeFor({
          prefix: '',
          cluster: config.default.cluster,
          authorization: 'none',
          balancer: { type: 'round_robin' },
          isDefault: true,
        })
      : undefined;

  const settings: ProxySettings = {
    maxMessageBytes: config.limits.maxMessageBytes,
    maxReplayBufferBytes: config.limits.maxReplayBufferBytes,
    accessLog: deps.accessLog,
    logger,
    debug: logger.isLevelEnabled('debug'),
  };
  const pipeline = new Pipeline(
    RouteTable.fromConfig(config),
    runtimes,
    defaultRuntime,
    settings,
    deps.metrics,
  );
  const listener = new GrpcListener({
    host: config.host,
    port: config.port,
    handshakeTimeoutMs: config.limits.handshakeTimeoutMs,
    idleTimeoutMs: config.limits.idleTimeoutMs,
    logger,
    onStream: (stream, fields, endStream) => pipeline.handleStream(stream, fields, endStream),
    onHeadersTooLarge: (stream, size) => pipeline.headersTooLarge(stream, size),
  });

  let listening = false;
  const instanceStatuses = (): ClusterInstances[] =>
    config.clusters.flatMap((clusterConfig): ClusterInstances[] => {
      const cluster = clusters.get(clusterConfig.id);
      if (cluster === undefined) return [];
      const store = stores.get(cluster.id);
      const known =
        cluster.instances?.() ??
        cluster.snapshot.endpoints.map(
          (endpoint): InstanceStatus => ({ id: endpoint.id, address: endpoint.authority, state: 'free' }),
        );
      return [
        {
          cluster: cluster.id,
          instances: known.map((instance): InstanceStatus => {
            const sessionId = store?.keyOf(instance.id);
            if (sessionId === undefined) return instance;
            return { ...instance, state: instance.state === 'free' ? 'bound' : instance.state, sessionId };
          }),
        },
      ];
    });
  const instancesOf = (clusterId: string): AdminInstance[] =>
    (instanceStatuses().find((each) => each.cluster === clusterId)?.instances ?? []).map(
      ({ id, address, state, sessionId, ejectedBy }): AdminInstance => ({
        id,
        address,
        state,
        session: sessionId,
        ...(ejectedBy === undefined ? {} : { ejectedBy }),
      }),
    );
  const view: AdminView = {
    routes: () =>
      [...runtimes.values(), ...(defaultRuntime === undefined ? [] : [defaultRuntime])].map(({ target }) => ({
        prefix: target.route.isDefault ? '(default)' : target.route.prefix,
        cluster: target.cluster.id,
        balancer: target.route.balancer.type,
        authorization: target.route.authorization,
      })),
    clusters: () =>
      config.clusters.map(
        (cluster): AdminCluster => ({
          id: cluster.id,
          type: cluster.type,
          discovered: clusters.get(cluster.id)?.discovered,
          instances: instancesOf(cluster.id),
        }),
      ),
    sessions: () =>
      [...stores].flatMap(([cluster, store]) =>
        [...store.entries()].map(([session, instance]) => ({ cluster, session, instance })),
      ),
    stats: () => ({
      downstreamConnections: listener.connectionCount,
      activeStreams: listener.activeStreamCount,
      stickyBindings: [...stores.values()].reduce((total, store) => total + store.size, 0),
      upstreamConnectionsCreated: clusters.connectionsCreated,
    }),
    readiness: () => {
      const checks: Record<string, boolean> = { listening };
      for (const cluster of config.clusters) {
        const discovered = clusters.get(cluster.id)?.discovered;
        if (discovered !== undefined) checks[`discovery:${cluster.id}`] = discovered;
      }
      if (redisStores !== undefined) checks.session_store = redisStores.reachable;
      return { ready: Object.values(checks).every(Boolean), checks };
    },
  };
  deps.metrics?.observe({
    clusters: () =>
      config.clusters.map((cluster): ClusterGauges => {
        const counts = { free: 0, bound: 0, retained: 0, ejected: 0, draining: 0 };
        for (const instance of instancesOf(cluster.id)) counts[instance.state]++;
        return { cluster: cluster.id, ...counts, sessionsBound: stores.get(cluster.id)?.size ?? 0 };
      }),
    downstreamConnections: () => listener.connectionCount,
    activeStreams: () => listener.activeStreamCount,
  });

  let closed: Promise<void> | undefined;
  return {
    config,
    view,
    releaseSession(cluster, session) {
      const store = stores.get(cluster);
      const instance = store?.endpointOf(session);
      if (store === undefined || instance === undefined) return 'not_found';
      // 'left' ends the lease in a shared store too, since this process holds the binding.
      store.unbindEndpoint(instance, 'left');
      logger.info({ cluster, instance, session: `${session.slice(0, 8)}…` }, 'session released by admin');
      return 'done';
    },
    async start() {
      await Promise.all([clusters.start(), redisStores?.start()]);
      const port = await listener.listen();
      listening = true;
      logger.info({ host: config.host, port }, 'listening');
      return port;
    },
    close(graceMs = config.limits.shutdownGraceMs) {
      closed ??= (async () => {
        listening = false;
        logger.info({ graceMs }, 'draining');
        await listener.close(graceMs);
        clusters.close();
        for (const sweep of idleSweeps) clearInterval(sweep);
        for (const store of stores.values()) store.close();
        redisStores?.close();
        deps.accessLog?.close();
        logger.info('closed');
      })();
      return closed;
    },
    instances: instanceStatuses,
    drainInstance(clusterId, instanceId) {
      return clusters.get(clusterId)?.setDrained?.(instanceId, true) ?? false;
    },
    undrainInstance(clusterId, instanceId) {
      return clusters.get(clusterId)?.setDrained?.(instanceId, false) ?? false;
    },
    stats() {
      let stickyBindings = 0;
      for (const store of stores.values()) stickyBindings += store.size;
      return {
        upstreamConnectionsCreated: clusters.connectionsCreated,
        downstreamConnections: listener.connectionCount,
        stickyBindings,
      };
    },
  };
}
