import cluster, { type Worker } from 'node:cluster';
import { ConfigError, loadConfigOrExit, loadEnvConfig, refuseToStart } from '@stickygw/servicekit';
import { AggregatorRegistry } from 'prom-client';
import { AdminServer } from './admin/admin-server.js';
import type { ActionResult } from './admin/admin-view.js';
import { answerPrimary, WorkersAdminView } from './admin/worker-admin.js';
import { GatewayAdminEnv, GatewayLogEnv } from './config/env-schema.js';
import { loadGatewayConfig } from './config/load-config.js';
import type { GatewayConfig } from './config/types.js';
import { createGateway, type Gateway } from './gateway.js';
import { PinoAccessLog } from './observability/access-log.js';
import { createLogger, type Logger } from './observability/logger.js';
import { GatewayMetrics } from './observability/metrics.js';

/**
 * Composition root: the only place that reads `process.env`. Env → config (refused with the
 * reference's messages and exit 1) → gateway → listen; SIGTERM/SIGINT → graceful close → exit 0.
 * Extensions (custom filters, validators, discovery, balancers, cluster types) are wired here
 * through `createGateway`'s second argument.
 */
interface AdminSettings {
  /** 0 = no admin listener (and no metrics). */
  readonly port: number;
  readonly host: string;
  readonly token: string | undefined;
}

function readEnv(): { config: GatewayConfig; logLevel: string; accessLog: boolean; admin: AdminSettings } {
  const env = process.env;
  return loadConfigOrExit(
    () => {
      // Both are read before either refuses, so one start reports every problem.
      const config = attempt(() => loadGatewayConfig(env));
      const log = attempt(() => loadEnvConfig(GatewayLogEnv, env, (settings) => settings));
      const admin = attempt(() => loadEnvConfig(GatewayAdminEnv, env, (settings) => settings));
      if (!config.ok || !log.ok || !admin.ok) {
        throw new ConfigError(
          [config, log, admin].flatMap((outcome) => (outcome.ok ? [] : outcome.error.problems)),
        );
      }
      return {
        config: config.value,
        logLevel: log.value.LOG_LEVEL,
        accessLog: log.value.ACCESS_LOG === 'true',
        admin: {
          port: admin.value.ADMIN_PORT,
          host: admin.value.ADMIN_HOST,
          token: admin.value.ADMIN_TOKEN?.trim() || undefined,
        },
      };
    },
    (error) => ['failed to load configuration', ...error.problems.map((problem) => `  ${problem}`)],
  );
}

function attempt<T>(load: () => T): { ok: true; value: T } | { ok: false; error: ConfigError } {
  try {
    return { ok: true, value: load() };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, error };
    throw error;
  }
}

/** A worker that died is replaced, but not faster than this (a crash loop must not spin). */
const RESTART_DELAY_MS = 500;

/**
 * GATEWAY_WORKERS > 1: this process only forks the workers, which listen on the shared port
 * (node:cluster hands connections round robin) and share bindings through the session store.
 * SIGTERM/SIGINT reach every worker, each drains as a single gateway does, then the primary exits.
 * SIGHUP is forwarded to every worker: each reloads its own config.
 */
async function superviseWorkers(count: number, logLevel: string, admin: AdminSettings): Promise<void> {
  const logger = createLogger({ level: logLevel });
  if (admin.port > 0) {
    // Workers count; the primary sums their registries when scraped and asks them for the rest.
    const aggregator = new AggregatorRegistry();
    const view = new WorkersAdminView(count);
    const server = new AdminServer({
      host: admin.host,
      port: admin.port,
      token: admin.token,
      metrics: { contentType: aggregator.contentType, text: () => aggregator.clusterMetrics() },
      view,
      actions: {
        release: (clusterId, session) => view.release(clusterId, session),
        drain: (clusterId, instance) => view.drain(clusterId, instance),
        reload: () => view.reload(),
      },
      logger,
    });
    await listenAdmin(server, admin, logger);
  }
  let stopping = false;
  const live = new Set<Worker>();
  const fork = (): void => {
    const worker = cluster.fork();
    live.add(worker);
    worker.on('exit', (code, signal) => {
      live.delete(worker);
      if (stopping) {
        if (live.size === 0) process.exit(0);
        return;
      }
      logger.error({ code, signal }, 'gateway worker died: starting another');
      setTimeout(fork, RESTART_DELAY_MS);
    });
  };
  for (let i = 0; i < count; i++) fork();
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: live.size }, 'shutting down');
    if (live.size === 0) process.exit(0);
    for (const worker of live) worker.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    if (stopping) return;
    logger.info({ workers: live.size }, 'SIGHUP: reloading every worker');
    for (const worker of live) worker.process.kill('SIGHUP');
  });
}

/** Binds the admin listener or refuses to start, naming the variables. */
async function listenAdmin(server: AdminServer, settings: AdminSettings, logger: Logger): Promise<void> {
  try {
    const port = await server.listen();
    logger.info({ host: settings.host, port }, 'admin listening');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason =
      code === 'EADDRINUSE' ? 'address already in use' : err instanceof Error ? err.message : String(err);
    refuseToStart([`failed to listen on ADMIN_HOST:ADMIN_PORT ${settings.host}:${settings.port}: ${reason}`]);
  }
}

async function main(): Promise<void> {
  const { config, logLevel, accessLog, admin } = readEnv();
  if (config.workers > 1 && cluster.isPrimary) {
    await superviseWorkers(config.workers, logLevel, admin);
    return;
  }
  const logger = createLogger({ level: logLevel });
  const metrics = admin.port > 0 ? new GatewayMetrics() : undefined;
  const gateway = createGateway(config, {
    logger,
    accessLog: accessLog ? new PinoAccessLog(logLevel) : undefined,
    ...(metrics === undefined ? {} : { metrics }),
    // The environment is the one of the start; the YAML file and the certificates are read again.
    reloadConfig: () => loadGatewayConfig(process.env),
  });
  const adminServer =
    metrics === undefined || cluster.isWorker
      ? undefined
      : new AdminServer({
          host: admin.host,
          port: admin.port,
          token: admin.token,
          metrics: { contentType: metrics.registry.contentType, text: () => metrics.registry.metrics() },
          view: gateway.view,
          actions: {
            release: (cluster, session) => gateway.releaseSession(cluster, session),
            drain: (cluster, instance) => drainResult(gateway.drainInstance(cluster, instance)),
            reload: async () => {
              const problems = await reloadProblems(gateway);
              if (problems.length > 0) throw new Error(problems.join('; '));
            },
          },
          logger,
        });
  if (metrics !== undefined && cluster.isWorker) {
    // GATEWAY_WORKERS > 1: the primary serves the admin listener from every worker's answers.
    AggregatorRegistry.setRegistries([metrics.registry]);
    // Constructing one is what makes prom-client answer the primary's requests in a worker.
    new AggregatorRegistry();
    answerPrimary(gateway.view, {
      release: (clusterId, session) => gateway.releaseSession(clusterId, session),
      drain: (clusterId, instance) => drainResult(gateway.drainInstance(clusterId, instance)),
      reload: () => reloadProblems(gateway),
    });
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gateway.close().then(
      async () => {
        await adminServer?.close();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err: String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Registered before the start: a SIGHUP's default action would kill the process.
  process.on('SIGHUP', () => {
    if (stopping) return;
    logger.info('SIGHUP: reloading the config');
    void gateway.reload();
  });

  // Up before the gateway listens, so /readyz answers 503 while the first discovery runs.
  if (adminServer !== undefined) await listenAdmin(adminServer, admin, logger);
  try {
    await gateway.start();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason =
      code === 'EADDRINUSE' ? 'address already in use' : err instanceof Error ? err.message : String(err);
    await gateway.close(0).catch(() => undefined);
    refuseToStart([`failed to listen on ${config.host}:${config.port}: ${reason}`]);
  }
}

await main();

function drainResult(found: boolean): ActionResult {
  return found ? 'done' : 'not_found';
}

/** Reloads the gateway's config: no problems when it was swapped in, else why it was refused. */
async function reloadProblems(gateway: Gateway): Promise<readonly string[]> {
  const outcome = await gateway.reload();
  return outcome.ok ? [] : outcome.problems;
}
