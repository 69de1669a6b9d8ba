import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * A Redis client that fails fast while Redis is away and recovers by itself: no offline queue
 * (commands reject at once while disconnected), bounded connect and command time, and endless
 * reconnection at most one second apart. Requests thus answer 500 promptly during an outage and
 * work again as soon as Redis is back, without a restart. Call `connectRedis` before use.
 */
export function createRedisClient(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1_000,
    commandTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
  // Each reconnection attempt emits 'error'; log a failure once until the connection is back.
  let failing = false;
  redis.on('error', (error: Error) => {
    if (failing) return;
    failing = true;
    logger.warn({ err: error }, 'redis connection failed; reconnecting');
  });
  redis.on('ready', () => {
    if (failing) logger.info('redis connection restored');
    failing = false;
  });
  return redis;
}

/**
 * Connects and pings once, within `timeoutMs`. Rejects with the connection error (not ioredis'
 * generic "Connection is closed.") so start-up can say why Redis is unreachable.
 */
export async function connectRedis(redis: Redis, timeoutMs: number): Promise<void> {
  let lastError: Error | undefined;
  const onError = (error: Error) => {
    lastError = error;
  };
  redis.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), deadline]);
  } catch (error) {
    throw lastError ?? error;
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
}
