import { getFreePort, type StartedRedis, startRedis } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { closeRedisClient, createRedisClient, firstConnection } from './redis-client.js';

describe('firstConnection', () => {
  let redis: StartedRedis;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('resolves once the client is ready, so the first command right after it succeeds', async () => {
    // Many fresh clients: without the wait, a command issued at once meets a connecting client
    // (no offline queue) and fails; with it, every first command succeeds.
    const clients = Array.from({ length: 20 }, () => createRedisClient(redis.url, createLogger('silent')));
    try {
      await Promise.all(clients.map((client) => firstConnection(client, 3_000)));
      expect(clients.map((client) => client.status)).toEqual(clients.map(() => 'ready'));
      expect(await Promise.all(clients.map((client) => client.ping()))).toEqual(clients.map(() => 'PONG'));
    } finally {
      await Promise.all(clients.map(closeRedisClient));
    }
  });

  it('resolves promptly when Redis is unreachable instead of waiting the whole bound', async () => {
    const client = createRedisClient(`redis://127.0.0.1:${await getFreePort()}`, createLogger('silent'));
    try {
      const started = performance.now();
      await firstConnection(client, 10_000);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(client.status).not.toBe('ready');
    } finally {
      await closeRedisClient(client);
    }
  });
});
