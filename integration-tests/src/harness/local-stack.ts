import { join } from 'node:path';
import { REPO_ROOT } from './repo-paths.js';

/**
 * The fixed shape of the local stack `make up` runs without Docker: the compose topology's ports
 * on 127.0.0.1 (Redis on 6380, its host port in compose) and the compose file's shared secret.
 * `config/gateway.local.yaml` must name the same addresses (checked by a test).
 */
export const LOCAL_STACK = {
  gatewayPort: 10_000,
  discovererPort: 8_080,
  authPort: 5_001,
  redisPort: 6_380,
  /** The first gateway's admin page and /metrics; replica N's is 9900 + N. */
  adminPort: 9_901,
  workers: 3,
  jwtSecret: 'dev-secret-change-in-prod',
  /** The reference's values (compose file and REFERENCE.md 5.5). */
  retryCount: 3,
  retryTimeoutMs: 5_000,
  subscribeIntervalMs: 5_000,
  gatewayConfigFile: join(REPO_ROOT, 'config', 'gateway.local.yaml'),
} as const;
