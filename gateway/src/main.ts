import cluster, { type Worker } from 'node:cluster';
import { ConfigError, loadConfigOrExit, loadEnvConfig, refuseToStart } from '@stickygw/servicekit';
import { GatewayLogEnv } from './config/env-schema.js';
import { loadGatewayConfig } from './config/load-config.js';
import type { GatewayConfig } from './config/types.js';
import { createGateway } from './gateway.js';
import { PinoAccessLog } from './observability/access-log.js';
import { createLogger } from './observability/logger.js';

/**
 * Composition root: the only place that reads `process.env`. Env → config (refused with the
 * reference's messages and exit 1) → gateway → listen; SIGTERM/SIGINT → graceful close → exit 0.
 * Extensions (custom filters, validators, discovery, balancers, cluster types) are wired here
 * through `createGateway`'s second argument.
 */
function readEnv(): { config: GatewayConfig; logLevel: string; accessLog: boolean } {
  const env = process.env;
  return loadConfigOrExit(
    () => {
      // Both are read before either refuses, so one start reports every problem.
      const config = attempt(() => loadGatewayConfig(env));
      const log = attempt(() => loadEnvConfig(GatewayLogEnv, env, (settings) => settings));
      if (!config.ok || !log.ok) {
        throw new ConfigError([config, log].flatMap((outcome) => (outcome.ok ? [] : outcome.error.problems)));
      }
      return {
        config: config.value,
        logLevel: log.value.LOG_LEVEL,
        accessLog: log.value.ACCESS_LOG === 'true',
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
function superviseWorkers(count: number, logLevel: string): void {
  const logger = createLogger({ level: logLevel });
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

async function main(): Promise<void> {
  const { config, logLevel, accessLog } = readEnv();
  if (config.workers > 1 && cluster.isPrimary) {
    superviseWorkers(config.workers, logLevel);
    return;
  }
  const logger = createLogger({ level: logLevel });
  const gateway = createGateway(config, {
    logger,
    accessLog: accessLog ? new PinoAccessLog(logLevel) : undefined,
    // The environment is the one of the start; the YAML file and the certificates are read again.
    reloadConfig: () => loadGatewayConfig(process.env),
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
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
