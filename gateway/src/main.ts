import { ConfigError } from './config/config-error.js';
import { loadGatewayConfig } from './config/load-config.js';
import type { GatewayConfig } from './config/types.js';
import { createGateway } from './gateway.js';
import { PinoAccessLog } from './observability/access-log.js';
import { createLogger, isLogLevel } from './observability/logger.js';

/**
 * Composition root: the only place that reads `process.env`. Env → config (refused with the
 * reference's messages and exit 1) → gateway → listen; SIGTERM/SIGINT → graceful close → exit 0.
 * Extensions (custom filters, validators, discovery, balancers, cluster types) are wired here
 * through `createGateway`'s second argument.
 */
function fail(lines: readonly string[]): never {
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(1);
}

function readEnv(): { config: GatewayConfig; logLevel: string; accessLog: boolean } {
  const env = process.env;
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig(env);
  } catch (err) {
    if (err instanceof ConfigError)
      fail(['failed to load configuration', ...err.problems.map((p) => `  ${p}`)]);
    throw err;
  }
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!isLogLevel(logLevel)) {
    fail([
      'failed to load configuration',
      `  LOG_LEVEL must be one of trace|debug|info|warn|error|fatal|silent, got "${logLevel}"`,
    ]);
  }
  const accessLogValue = env.ACCESS_LOG?.trim() || 'true';
  if (accessLogValue !== 'true' && accessLogValue !== 'false') {
    fail(['failed to load configuration', `  ACCESS_LOG must be true|false, got "${accessLogValue}"`]);
  }
  return { config, logLevel, accessLog: accessLogValue === 'true' };
}

async function main(): Promise<void> {
  const { config, logLevel, accessLog } = readEnv();
  const logger = createLogger({ level: logLevel });
  const gateway = createGateway(config, {
    logger,
    accessLog: accessLog ? new PinoAccessLog(logLevel) : undefined,
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

  try {
    await gateway.start();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason =
      code === 'EADDRINUSE' ? 'address already in use' : err instanceof Error ? err.message : String(err);
    await gateway.close(0).catch(() => undefined);
    fail([`failed to listen on ${config.host}:${config.port}: ${reason}`]);
  }
}

await main();
