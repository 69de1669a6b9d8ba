import type { AuthConfig } from './config/load-config.js';
import { createAuthServer } from './grpc/auth-server.js';
import type { Logger } from './logger.js';
import { LoginService } from './login/login-service.js';
import { JwtTokenIssuer } from './login/token-issuer.js';
import { closeRedisClient, createRedisClient, firstConnection } from './redis/redis-client.js';
import { RedisUserStore } from './users/redis-user-store.js';
import { TestUserSeeder } from './users/test-user-seeder.js';

/** How long start-up waits for Redis (and the first TestUser write) before listening anyway. */
const STARTUP_WAIT_MS = 3_000;
/**
 * The reference waits for in-flight calls without a limit; Login calls are short and bounded by the
 * Redis timeouts, so anything still running after this is stuck and gets cancelled.
 */
const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningAuthService {
  /** The bound port (the configured one, or the one picked for port 0). */
  readonly port: number;
  /** Graceful stop: finish in-flight calls, stop seeding, close Redis. */
  stop(): Promise<void>;
}

/** Wires the auth service from its configuration and starts listening. */
export async function startAuthService(config: AuthConfig, logger: Logger): Promise<RunningAuthService> {
  const redis = createRedisClient(config.redisUrl, logger);
  const store = new RedisUserStore(redis);
  const seeder = config.seedTestUser ? new TestUserSeeder({ redis, store, logger }) : undefined;
  const login = new LoginService({
    users: store,
    tokens: new JwtTokenIssuer(config.jwtSecret, config.tokenExpirationMs),
    logger,
  });
  const server = createAuthServer({ login, logger });
  let port: number;
  try {
    await Promise.all([firstConnection(redis, STARTUP_WAIT_MS), seeder?.start(STARTUP_WAIT_MS)]);
    port = await server.listen(config.listenHost, config.port);
  } catch (error) {
    seeder?.stop();
    await closeRedisClient(redis);
    throw error;
  }
  return {
    port,
    stop: async () => {
      await server.shutdown(SHUTDOWN_GRACE_MS);
      seeder?.stop();
      await closeRedisClient(redis);
    },
  };
}
