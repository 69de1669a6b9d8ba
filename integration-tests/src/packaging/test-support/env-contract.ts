/**
 * Each service's environment contract (HELPERS.md "Cross-service runtime contract", REFERENCE.md
 * 3.1, 4.1, 5.1, 6.1): the variables it reads, and those without which it refuses to start.
 */
export interface EnvContract {
  readonly workspace: 'auth' | 'discoverer' | 'service' | 'gateway';
  readonly known: readonly string[];
  readonly required: readonly string[];
}

export const ENV_CONTRACTS: Readonly<Record<string, EnvContract>> = {
  myauth: {
    workspace: 'auth',
    known: [
      'SERVICE_PORT_GRPC',
      'LISTEN_HOST',
      'REDIS_ADDR',
      'JWT_SECRET',
      'TOKEN_EXPIRATION',
      'AUTH_SEED_TEST_USER',
      'LOG_LEVEL',
    ],
    required: ['JWT_SECRET'],
  },
  mydiscoverer: {
    workspace: 'discoverer',
    known: [
      'SERVICE_PORT_HTTP',
      'REDIS_ADDR',
      'LISTEN_HOST',
      'LOG_LEVEL',
      'DISCOVERER_TOKEN',
      'DISCOVERER_TOKEN_FILE',
      'DISCOVERER_READ_TOKEN',
      'DISCOVERER_READ_TOKEN_FILE',
    ],
    required: ['SERVICE_PORT_HTTP', 'REDIS_ADDR'],
  },
  myservice: {
    workspace: 'service',
    known: [
      'SERVICE_PORT_GRPC',
      'LISTEN_HOST',
      'MY_DISCOVERER_URL',
      'INSTANCE_ID',
      'HOSTNAME',
      'DISCOVERABLE_HOST',
      'REGISTRATION_TTL_MS',
      'REGISTRATION_HEARTBEAT_INTERVAL_MS',
      'JWT_SECRET',
      'SUBSCRIBE_INTERVAL_MS',
      'LOG_LEVEL',
      'DISCOVERER_TOKEN',
      'DISCOVERER_TOKEN_FILE',
    ],
    required: ['MY_DISCOVERER_URL', 'JWT_SECRET'],
  },
  mygateway: {
    workspace: 'gateway',
    known: [
      'SERVICE_PORT_GRPC',
      'CONFIG_PATH',
      'JWT_SECRET',
      'RETRY_COUNT',
      'RETRY_TIMEOUT_MS',
      'LISTEN_HOST',
      'LOG_LEVEL',
      'MAX_MESSAGE_BYTES',
      'MAX_REPLAY_BUFFER_BYTES',
      'SHUTDOWN_GRACE_MS',
      'SESSION_STORE_URL',
      // Named by `discoverer_token_env` in config/gateway.docker.yaml, not by the gateway's code.
      'DISCOVERER_TOKEN',
    ],
    required: ['SERVICE_PORT_GRPC', 'CONFIG_PATH', 'JWT_SECRET', 'RETRY_COUNT', 'RETRY_TIMEOUT_MS'],
  },
};
