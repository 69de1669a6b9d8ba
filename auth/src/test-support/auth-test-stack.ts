import type { MyServiceAPIClient } from '@stickygw/proto';
import { type StartedRedis, startRedis } from '@stickygw/testkit';
import { Redis } from 'ioredis';
import { type RunningAuthService, startAuthService } from '../auth-service.js';
import type { AuthConfig } from '../config/load-config.js';
import { createLogger } from '../logger.js';
import { createAuthClient } from './auth-client.js';

/** A real redis-server, a direct Redis connection to arrange data, an auth server and a client. */
export interface AuthTestStack {
  readonly redis: StartedRedis;
  readonly admin: Redis;
  readonly service: RunningAuthService;
  readonly client: MyServiceAPIClient;
  /** Stops everything in reverse order of start. */
  stop(): Promise<void>;
}

/** The auth service on a free port in front of its own redis-server; `overrides` change its config. */
export async function startAuthTestStack(
  overrides: Partial<Omit<AuthConfig, 'redisUrl'>> = {},
): Promise<AuthTestStack> {
  const redis = await startRedis();
  const admin = new Redis(redis.url);
  const config: AuthConfig = {
    port: 0,
    listenHost: '127.0.0.1',
    redisUrl: redis.url,
    jwtSecret: 'auth-test-secret',
    tokenExpirationMs: 60_000,
    seedTestUser: false,
    logLevel: 'silent',
    ...overrides,
  };
  const service = await startAuthService(config, createLogger('silent'));
  const client = createAuthClient(service.port);
  return {
    redis,
    admin,
    service,
    client,
    async stop() {
      client.close();
      await service.stop();
      admin.disconnect();
      await redis.stop();
    },
  };
}
