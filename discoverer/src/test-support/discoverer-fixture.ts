import { type StartedRedis, startRedis } from '@stickygw/testkit';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { type AppDeps, buildApp, type DiscovererApp } from '../app.js';
import { connectRedis, createRedisClient } from '../redis-client.js';

/** A real redis-server, the app on top of it (for `inject`) and a separate client to inspect Redis. */
export interface DiscovererFixture {
  readonly app: DiscovererApp;
  readonly redisServer: StartedRedis;
  /** Independent of the app's client: reads and writes raw keys, resets between tests. */
  readonly inspect: Redis;
  close(): Promise<void>;
}

export async function startDiscovererFixture(tokens?: AppDeps['tokens']): Promise<DiscovererFixture> {
  const redisServer = await startRedis();
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const redis = createRedisClient(redisServer.url, logger);
  const inspect = new Redis(redisServer.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await connectRedis(redis, 5_000);
    await inspect.connect();
  } catch (error) {
    redis.disconnect();
    inspect.disconnect();
    await redisServer.stop();
    throw error;
  }
  const app = buildApp({ redis, logger, ...(tokens === undefined ? {} : { tokens }) });
  await app.ready();
  return {
    app,
    redisServer,
    inspect,
    close: async () => {
      await app.close();
      redis.disconnect();
      inspect.disconnect();
      await redisServer.stop();
    },
  };
}

/** A valid registration body; override or add properties per test. */
export function registration(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    instance_id: 'worker-1',
    service_type: 'grpcserver',
    ipv4: '127.0.0.1',
    port: 5000,
    timestamp: '2026-02-19T12:00:00Z',
    ttl_ms: 60_000,
    ...overrides,
  };
}
