import { loadConfigOrExit, refuseToStart } from '@stickygw/servicekit';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { describeRedisUrl, loadConfig } from './config.js';
import { connectRedis, createRedisClient } from './redis-client.js';

/** REFERENCE.md 4.1: the start-up ping gives up after 5 s. */
const STARTUP_PING_TIMEOUT_MS = 5_000;
/** REFERENCE.md 4.1: graceful shutdown is bounded by 10 s. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfigOrExit(() => loadConfig(process.env));

  const logger = pino({ level: config.logLevel });
  const redis = createRedisClient(config.redisUrl, logger);
  try {
    await connectRedis(redis, STARTUP_PING_TIMEOUT_MS);
  } catch (error) {
    redis.disconnect();
    const reason = error instanceof Error ? error.message : String(error);
    refuseToStart([`cannot reach Redis at REDIS_ADDR=${describeRedisUrl(config.redisUrl)}: ${reason}`]);
  }

  const app = buildApp({ redis, logger, tokens: { write: config.writeTokens, read: config.readTokens } });
  try {
    await app.listen({ host: config.listenHost, port: config.port });
  } catch (error) {
    redis.disconnect();
    const reason = error instanceof Error ? error.message : String(error);
    refuseToStart([
      `cannot listen on ${config.listenHost}:${config.port} (SERVICE_PORT_HTTP, LISTEN_HOST): ${reason}`,
    ]);
  }
  logger.info(
    {
      host: config.listenHost,
      port: config.port,
      redis: describeRedisUrl(config.redisUrl),
      // How many tokens, never which: an open registry is worth a line in the log.
      writeTokens: config.writeTokens.length,
      readTokens: config.readTokens.length,
    },
    'listening',
  );
  if (config.writeTokens.length === 0) {
    logger.warn('DISCOVERER_TOKEN is not set: anyone who reaches this port can register and unregister');
  }

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'graceful shutdown timed out');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    try {
      await app.close();
      await redis.quit().catch(() => redis.disconnect());
    } finally {
      clearTimeout(timer);
    }
    logger.info('stopped');
    process.exit(0);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    shutdown(signal).catch((error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `discoverer failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
