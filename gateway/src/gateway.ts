import { ConfigError } from '@stickygw/servicekit';
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
  /**
   * Loads the configuration again for `reload()` (main.ts: the start-up loader on the same
   * environment, which re-reads the YAML and the certificates); throws `ConfigError` when it is wrong.
   */
  readonly reloadConfig?: () => GatewayConfig;
}

/** What a reload did, also logged. */
export type ReloadOutcome =
  | {
      readonly ok: true;
      /** Cluster ids: new, rebuilt with a new config, gone (drained, then closed), kept as they were. */
      readonly added: readonly string[];
      readonly changed: readonly string[];
      readonly removed: readonly string[];
      readonly kept: readonly string[];
      readonly routes: number;
      /** Settings read at start-up only (port, host, workers, session store, TLS on/off): restart to change them. */
      readonly ignored: readonly string[];
      readonly durationMs: number;
    }
  | { readonly ok: false; readonly problems: readonly string[] };

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
   * Loads the configuration again (`GatewayDeps.reloadConfig`) and swaps it in: new calls use it at
   * once, calls in flight finish on the one they started with, unchanged clusters are kept with their
   * connections and bindings, removed ones get `shutdownGraceMs` before their streams are reset, and
   * the listener's certificates are replaced without dropping connections. A config that does not
   * load changes nothing. Reloads run one after another.
   */
  reload(): Promise<ReloadOutcome>;
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
  /** The configuration in use (the last one reloaded). */
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

/** Settings that only a restart changes: a reload that changes them keeps the running ones. */
function startupOnlyChanges(running: GatewayConfig, next: GatewayConfig): string[] {
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  const ignored: string[] = [];
  if (running.port !== next.port) ignored.push('SERVICE_PORT_GRPC');
  if (running.host !== next.host) ignored.push('LISTEN_HOST');
  if (running.workers !== next.workers) ignored.push('GATEWAY_WORKERS');
  if (differs(running.sessionStore, next.sessionStore)) ignored.push('session_store');
  if (differs(running.limits, next.limits)) ignored.push('limits');
  if (running.jwtSecret !== next.jwtSecret) ignored.push('JWT_SECRET');
  if ((running.tls === undefined) !== (next.tls === undefined)) ignored.push('TLS_CERT_FILE');
  return ignored;
}

/** The routes of one configuration, swapped in as a whole by a reload. */
interface Generation {
  readonly config: GatewayConfig;
  readonly pipeline: Pipeline;
  /** By the route's serialised config and cluster: a reload reuses an unchanged route's runtime. */
  readonly runtimes: ReadonlyMap<string, RouteRuntime>;
}

/** Wires the modules for one configuration. No protocol logic lives here. */
export function createGateway(initialConfig: GatewayConfig, deps: GatewayDeps = {}): Gateway {
  const logger = deps.logger ?? createLogger();
  const upstream: UpstreamConnectionOptions = {
    ...DEFAULT_UPSTREAM_CONNECTION_OPTIONS,
    log: logger,
    ...deps.upstream,
  };
  const clusters = new ClusterManager(
    initialConfig.clusters,
    { ...DEFAULT_CLUSTER_FACTORIES, ...deps.clusterTypes },
    {
      logger,
      upstream,
      retryTimeoutMs: initialConfig.retryTimeoutMs,
      createDiscovererClient:
        deps.createDiscovererClient ?? ((cluster) => createHttpDiscovererClient(cluster, logger)),
    },
  );

  // By cluster object: a cluster rebuilt by a reload (same id, new config) gets a store of its own.
  const stores = new Map<Cluster, SessionStore>();
  const redisStores =
    deps.createSessionStore === undefined && initialConfig.sessionStore.type === 'redis'
      ? new RedisSessionStores(initialConfig.sessionStore.url, logger)
      : undefined;
  const createSessionStore =
    deps.createSessionStore ??
    ((cluster: Cluster) => redisStores?.storeFor(cluster.id) ?? new InMemorySessionStore());
  const sessionsOf = (cluster: Cluster): SessionStore => {
    let store = stores.get(cluster);
    if (store === undefined) {
      store = createSessionStore(cluster);
      const created = store;
      // An endpoint that leaves the cluster (ejected, vanished, re-addressed) loses its binding;
      // one that merely vanished from discovery while bound is retained for its session instead.
      cluster.onEndpointsRemoved((ids, cause) => {
        for (const id of ids) created.unbindEndpoint(id, cause);
      });
      cluster.retainPinned?.((id) => created.keyOf(id) !== undefined);
      stores.set(cluster, store);
    }
    return store;
  };
  const idleSweeps = new Map<RouteRuntime, NodeJS.Timeout>();
  const sweepIdle = (runtime: RouteRuntime, store: SessionStore, idleMs: number): void => {
    const sweep = setInterval(() => store.releaseIdle(idleMs), Math.max(1, Math.min(idleMs / 4, 10_000)));
    sweep.unref();
    idleSweeps.set(runtime, sweep);
  };

  const extraFilters = deps.headerFilters ?? [];
  const createBalancer = deps.createBalancer ?? defaultBalancer;
  const settings: ProxySettings = {
    maxMessageBytes: initialConfig.limits.maxMessageBytes,
    maxReplayBufferBytes: initialConfig.limits.maxReplayBufferBytes,
    accessLog: deps.accessLog,
    logger,
    debug: logger.isLevelEnabled('debug'),
  };

  /** Routes and default of `config` over the clusters now in the manager, reusing unchanged runtimes. */
  const buildGeneration = (
    config: GatewayConfig,
    previous: Generation | undefined,
    clusterOf: (id: string) => Cluster | undefined,
  ): Generation => {
    let jwtFilter: HeaderFilter | undefined;
    const jwtFilterOf = (): HeaderFilter => {
      jwtFilter ??= new JwtAuthFilter(
        deps.tokenValidator ??
          new Hs256TokenValidator(config.jwtSecret ?? '', { previousSecret: config.jwtPreviousSecret }),
      );
      return jwtFilter;
    };
    const runtimes = new Map<string, RouteRuntime>();
    const runtimeFor = (route: Route): RouteRuntime => {
      const cluster = clusterOf(route.cluster);
      if (cluster === undefined) throw new Error(`route ${route.prefix}: unknown cluster "${route.cluster}"`);
      const key = `${JSON.stringify(route)} ${cluster.id}`;
      const reused = previous?.runtimes.get(key);
      if (reused !== undefined && reused.target.cluster === cluster) {
        runtimes.set(key, reused);
        return reused;
      }
      const filters =
        route.authorization === 'required' ? [jwtFilterOf(), ...extraFilters] : [...extraFilters];
      const sessions = sessionsOf(cluster);
      const runtime: RouteRuntime = {
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
      if (route.sessionIdleTimeoutMs !== undefined && route.balancer.type === 'sticky_sessions') {
        sweepIdle(runtime, sessions, route.sessionIdleTimeoutMs);
      }
      runtimes.set(key, runtime);
      return runtime;
    };
    const byPrefix = new Map<string, RouteRuntime>();
    for (const route of config.routes) byPrefix.set(route.prefix, runtimeFor({ ...route, isDefault: false }));
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
    const pipeline = new Pipeline(
      RouteTable.fromConfig(config),
      byPrefix,
      defaultRuntime,
      settings,
      deps.metrics,
    );
    return { config, pipeline, runtimes };
  };

  let current = buildGeneration(initialConfig, undefined, (id) => clusters.get(id));
  const listener = new GrpcListener({
    host: initialConfig.host,
    port: initialConfig.port,
    handshakeTimeoutMs: initialConfig.limits.handshakeTimeoutMs,
    idleTimeoutMs: initialConfig.limits.idleTimeoutMs,
    tls: initialConfig.tls,
    logger,
    // Read per stream: a reload's new routes take the next call; a running call keeps its runtime.
    onStream: (stream, fields, endStream) => current.pipeline.handleStream(stream, fields, endStream),
    onHeadersTooLarge: (stream, size) => current.pipeline.headersTooLarge(stream, size),
  });

  let listening = false;
  /** The session store of the cluster now configured under `clusterId`. */
  const storeOf = (clusterId: string): SessionStore | undefined => {
    const cluster = clusters.get(clusterId);
    return cluster === undefined ? undefined : stores.get(cluster);
  };
  const instanceStatuses = (): ClusterInstances[] =>
    current.config.clusters.flatMap((clusterConfig): ClusterInstances[] => {
      const cluster = clusters.get(clusterConfig.id);
      if (cluster === undefined) return [];
      const store = stores.get(cluster);
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
    routes: () => {
      const { routes, default: fallback } = current.config;
      return [
        ...routes.map((route) => ({
          prefix: route.prefix,
          cluster: route.cluster,
          balancer: route.balancer.type,
          authorization: route.authorization,
        })),
        ...(fallback.action === 'use_cluster'
          ? [
              {
                prefix: '(default)',
                cluster: fallback.cluster,
                balancer: 'round_robin',
                authorization: 'none',
              },
            ]
          : []),
      ];
    },
    clusters: () =>
      current.config.clusters.map(
        (cluster): AdminCluster => ({
          id: cluster.id,
          type: cluster.type === 'extension' ? cluster.extensionType : cluster.type,
          discovered: clusters.get(cluster.id)?.discovered,
          instances: instancesOf(cluster.id),
        }),
      ),
    sessions: () =>
      current.config.clusters.flatMap(({ id: cluster }) =>
        [...(storeOf(cluster)?.entries() ?? [])].map(([session, instance]) => ({
          cluster,
          session,
          instance,
        })),
      ),
    stats: () => ({
      downstreamConnections: listener.connectionCount,
      activeStreams: listener.activeStreamCount,
      stickyBindings: [...stores.values()].reduce((total, store) => total + store.size, 0),
      upstreamConnectionsCreated: clusters.connectionsCreated,
    }),
    readiness: () => {
      const checks: Record<string, boolean> = { listening };
      for (const cluster of current.config.clusters) {
        const discovered = clusters.get(cluster.id)?.discovered;
        if (discovered !== undefined) checks[`discovery:${cluster.id}`] = discovered;
      }
      if (redisStores !== undefined) checks.session_store = redisStores.reachable;
      return { ready: Object.values(checks).every(Boolean), checks };
    },
  };
  deps.metrics?.observe({
    clusters: () =>
      instanceStatuses().map(({ cluster, instances }): ClusterGauges => {
        const counts = { free: 0, bound: 0, retained: 0, ejected: 0, draining: 0 };
        for (const instance of instances) counts[instance.state]++;
        return { cluster, ...counts, sessionsBound: storeOf(cluster)?.size ?? 0 };
      }),
    downstreamConnections: () => listener.connectionCount,
    activeStreams: () => listener.activeStreamCount,
  });

  /** Clusters a reload removed or rebuilt: their calls get the grace period, then they close. */
  const draining = new Map<Cluster, NodeJS.Timeout>();
  const retire = (cluster: Cluster): void => {
    const finish = (): void => {
      draining.delete(cluster);
      cluster.close();
      stores.get(cluster)?.close();
      stores.delete(cluster);
    };
    const timer = setTimeout(finish, current.config.limits.shutdownGraceMs);
    timer.unref();
    draining.set(cluster, timer);
  };

  const applyReload = async (): Promise<ReloadOutcome> => {
    const started = performance.now();
    if (deps.reloadConfig === undefined) {
      return { ok: false, problems: ['this gateway was created without a config loader (reloadConfig)'] };
    }
    let next: GatewayConfig;
    try {
      next = deps.reloadConfig();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return { ok: false, problems: error.problems };
    }
    const ignored = startupOnlyChanges(current.config, next);
    // What only a restart changes stays as it runs; the routes and clusters are the new ones.
    const effective: GatewayConfig = Object.freeze({
      ...current.config,
      default: next.default,
      routes: next.routes,
      clusters: next.clusters,
      retryCount: next.retryCount,
      ...(current.config.tls === undefined || next.tls === undefined ? {} : { tls: next.tls }),
    });
    const change = await clusters.prepare(effective.clusters);
    if (closed !== undefined) {
      change.discard();
      return { ok: false, problems: ['the gateway is shutting down'] };
    }
    let generation: Generation;
    try {
      generation = buildGeneration(effective, current, (id) => change.get(id));
    } catch (error) {
      change.discard();
      return { ok: false, problems: [error instanceof Error ? error.message : String(error)] };
    }
    // One synchronous turn from here: no call can see the new clusters with the old routes.
    const retired = change.commit();
    const previous = current;
    current = generation;
    for (const [runtime, sweep] of idleSweeps) {
      if (!isRuntimeOf(generation, runtime)) {
        clearInterval(sweep);
        idleSweeps.delete(runtime);
      }
    }
    for (const cluster of retired) retire(cluster);
    if (effective.tls !== undefined && previous.config.tls !== effective.tls) listener.setTls(effective.tls);
    return {
      ok: true,
      added: change.added,
      changed: change.changed,
      removed: change.removed,
      kept: change.kept,
      routes: effective.routes.length,
      ignored,
      durationMs: Math.round(performance.now() - started),
    };
  };

  let reloads: Promise<unknown> = Promise.resolve();
  let closed: Promise<void> | undefined;
  return {
    get config() {
      return current.config;
    },
    view,
    releaseSession(cluster, session) {
      const store = storeOf(cluster);
      const instance = store?.endpointOf(session);
      if (store === undefined || instance === undefined) return 'not_found';
      // 'left' ends the lease in a shared store too, since this process holds the binding.
      store.unbindEndpoint(instance, 'left');
      logger.info({ cluster, instance, session: `${session.slice(0, 8)}…` }, 'session released by admin');
      return 'done';
    },
    instances: instanceStatuses,
    drainInstance(clusterId, instanceId) {
      return clusters.get(clusterId)?.setDrained?.(instanceId, true) ?? false;
    },
    undrainInstance(clusterId, instanceId) {
      return clusters.get(clusterId)?.setDrained?.(instanceId, false) ?? false;
    },
    async start() {
      await Promise.all([clusters.start(), redisStores?.start()]);
      const port = await listener.listen();
      listening = true;
      logger.info({ host: current.config.host, port, tls: current.config.tls !== undefined }, 'listening');
      return port;
    },
    reload() {
      const outcome = reloads.then(applyReload).then(
        (result) => {
          if (result.ok) {
            const { ok: _, ...figures } = result;
            logger.info(figures, 'config reloaded');
            if (result.ignored.length > 0) {
              logger.warn({ ignored: result.ignored }, 'config reload: these settings need a restart');
            }
          } else {
            logger.error(
              { problems: result.problems },
              `config reload refused (${result.problems.length} problem(s)): the running config is unchanged`,
            );
            for (const problem of result.problems) logger.error(`  ${problem}`);
          }
          return result;
        },
        (error: unknown): ReloadOutcome => {
          const problems = [error instanceof Error ? error.message : String(error)];
          logger.error({ problems }, 'config reload failed: the running config is unchanged');
          return { ok: false, problems };
        },
      );
      reloads = outcome;
      return outcome;
    },
    close(graceMs = current.config.limits.shutdownGraceMs) {
      closed ??= (async () => {
        listening = false;
        logger.info({ graceMs }, 'draining');
        await listener.close(graceMs);
        clusters.close();
        for (const [cluster, timer] of draining) {
          clearTimeout(timer);
          cluster.close();
        }
        draining.clear();
        for (const sweep of idleSweeps.values()) clearInterval(sweep);
        for (const store of stores.values()) store.close();
        redisStores?.close();
        deps.accessLog?.close();
        logger.info('closed');
      })();
      return closed;
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

function isRuntimeOf(generation: Generation, runtime: RouteRuntime): boolean {
  for (const candidate of generation.runtimes.values()) if (candidate === runtime) return true;
  return false;
}
