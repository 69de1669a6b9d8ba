import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/** Upper bound of the delay between reconnection attempts, so Login works again soon after Redis is back. */
const MAX_RECONNECT_DELAY_MS = 500;

/**
 * A Redis client that fails fast while Redis is unreachable and recovers by itself (issue 2: Redis
 * down must answer INTERNAL promptly, and Login must work again without a restart):
 * - no offline queue, so a command issued while disconnected is rejected at once instead of waiting;
 * - bounded connect and command timeouts, for a Redis that accepts connections but does not answer;
 * - a retry strategy that never gives up reconnecting.
 * Connection state changes are logged once each, not on every failed reconnection attempt.
 */
export function createRedisClient(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
  });
  let healthy = false;
  let reportedDown = false;
  redis.on('ready', () => {
    healthy = true;
    reportedDown = false;
    logger.info('redis ready');
  });
  redis.on('error', (error: Error) => {
    if (!reportedDown) {
      reportedDown = true;
      logger.warn({ err: error }, 'redis unreachable, reconnecting');
    } else {
      logger.debug({ err: error }, 'redis error');
    }
  });
  redis.on('close', () => {
    if (healthy) {
      healthy = false;
      logger.warn('redis connection lost, reconnecting');
      reportedDown = true;
    }
  });
  return redis;
}

/**
 * Resolves once the client's first connection is ready, once Redis reports it is unreachable, or
 * after `waitMs`, whichever comes first. Start-up waits on this so that the first Login after the
 * server listens does not meet a connection still being opened (no offline queue: it would fail).
 */
export function firstConnection(redis: Redis, waitMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const settle = () => {
      clearTimeout(timer);
      redis.off('ready', settle);
      redis.off('error', settle);
      resolve();
    };
    const timer = setTimeout(settle, waitMs);
    redis.once('ready', settle);
    redis.once('error', settle);
  });
}

/**
 * Closes the client for good: QUIT when connected (bounded by the command timeout), otherwise just
 * stops reconnecting. The intentional close is not reported as a lost connection.
 */
export async function closeRedisClient(redis: Redis): Promise<void> {
  redis.removeAllListeners('close');
  try {
    await redis.quit();
  } catch {
    if (redis.status !== 'end') redis.disconnect();
  }
}
