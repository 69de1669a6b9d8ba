import { isIP } from 'node:net';
import { MAX_TIMER_MS, type Message, type Messages, stringEnum, Type } from '@stickygw/servicekit';
import { sessionStoreUrlProblem } from './yaml-schema.js';

/** `<VARIABLE> must be <expectation>, got "<value>"`, plus `(at most <max>)` above the maximum. */
function integer(expectation: string, options: { default?: number; minimum: number; maximum?: number }) {
  const invalid: Message = ({ where, text }) =>
    `${where} must be ${expectation}, got ${JSON.stringify(text)}`;
  return Type.Integer({
    ...options,
    messages: {
      required: ({ where }) => `${where} is required`,
      invalid,
      maximum: (failure) => `${invalid(failure)} (at most ${failure.limit})`,
    } satisfies Messages,
  });
}

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * The gateway's environment (REFERENCE.md 6.1), in the reference's checking order; the YAML file's
 * problems come in CONFIG_PATH's place, JWT_SECRET's requirement (step 9) is checked after the file.
 * Every value is trimmed and a blank one counts as unset. The variables after RETRY_TIMEOUT_MS are
 * beyond the reference.
 */
export const GatewayEnv = Type.Object({
  // Like Go's strconv.Atoi then a range check: `+80` and ` 80 ` are 80.
  SERVICE_PORT_GRPC: Type.Integer({
    minimum: 1,
    maximum: 65_535,
    messages: {
      required: () => 'SERVICE_PORT_GRPC must be a valid port (1-65535)',
      type: () => 'SERVICE_PORT_GRPC must be a valid port (1-65535)',
      invalid: ({ value }) => `SERVICE_PORT_GRPC must be 1-65535, got ${value}`,
    } satisfies Messages,
  }),
  /** The YAML file, relative to the working directory. */
  CONFIG_PATH: Type.String({ messages: { required: () => 'CONFIG_PATH is required' } satisfies Messages }),
  /**
   * Required when a route has `authorization: required`; inline or from the file JWT_SECRET_FILE
   * names (read by servicekit's `readSecretSetting`, like the other secrets).
   */
  JWT_SECRET: Type.Optional(Type.String()),
  JWT_SECRET_FILE: Type.Optional(Type.String()),
  /** Rotation: tokens signed with this secret are still accepted until it is removed. */
  JWT_SECRET_PREVIOUS: Type.Optional(Type.String()),
  JWT_SECRET_PREVIOUS_FILE: Type.Optional(Type.String()),
  /** Attempts per backend stream opening on dynamic clusters. */
  RETRY_COUNT: integer('a positive integer', { minimum: 1 }),
  /** Limit on opening one backend stream. */
  RETRY_TIMEOUT_MS: integer('a positive integer (ms)', { minimum: 1, maximum: MAX_TIMER_MS }),
  /** docker-compose sets 0.0.0.0. */
  LISTEN_HOST: Type.String({
    default: '127.0.0.1',
    check: (host: string) => (isIP(host) !== 0 || HOST_NAME.test(host) ? undefined : 'not a host'),
    messages: {
      check: ({ text }) => `LISTEN_HOST must be an IP address or a host name, got ${JSON.stringify(text)}`,
    } satisfies Messages,
  }),
  /**
   * Largest single gRPC message accepted from a client; unset means no limit (messages of any
   * size are relayed, memory bounded by flow control), so a setting must be positive.
   */
  MAX_MESSAGE_BYTES: Type.Optional(integer('a positive integer (bytes)', { minimum: 1 })),
  /** Replay buffer of a client stream for session transfer, per call; 0 disables replay. */
  MAX_REPLAY_BUFFER_BYTES: integer('a non-negative integer (bytes)', { default: 1_048_576, minimum: 0 }),
  /** How long in-flight calls may run after SIGTERM. */
  SHUTDOWN_GRACE_MS: integer('a positive integer (ms)', { default: 5000, minimum: 1, maximum: MAX_TIMER_MS }),
  /** A client connection must complete the HTTP/2 handshake within this. */
  HANDSHAKE_TIMEOUT_MS: integer('a positive integer (ms)', {
    default: 10_000,
    minimum: 1,
    maximum: MAX_TIMER_MS,
  }),
  /** A client connection without a stream for this long is closed; 0 = never. */
  IDLE_TIMEOUT_MS: integer('a non-negative integer (ms)', {
    default: 300_000,
    minimum: 0,
    maximum: MAX_TIMER_MS,
  }),
  /** Overrides `session_store.url` (credentials stay out of the YAML file). */
  SESSION_STORE_URL: Type.Optional(
    Type.String({
      check: (url: string) => sessionStoreUrlProblem('SESSION_STORE_URL', url),
      messages: {
        check: ({ reason }) => reason ?? 'SESSION_STORE_URL is not a session store URL',
      } satisfies Messages,
    }),
  ),
  /** PEM certificate chain of the gRPC listener; with TLS_KEY_FILE it serves TLS (ALPN h2) instead of h2c. */
  TLS_CERT_FILE: Type.Optional(Type.String()),
  /** PEM private key of TLS_CERT_FILE. */
  TLS_KEY_FILE: Type.Optional(Type.String()),
  /** PEM CA certificates: clients must present a certificate they issued (mutual TLS). */
  TLS_CLIENT_CA_FILE: Type.Optional(Type.String()),
  /** Gateway processes sharing the port (node:cluster); `auto` = one per core. */
  GATEWAY_WORKERS: Type.String({
    default: '1',
    pattern: '^(auto|[1-9][0-9]{0,3})$',
    messages: {
      pattern: ({ text }) =>
        `GATEWAY_WORKERS must be a positive integer or auto, got ${JSON.stringify(text)}`,
    } satisfies Messages,
  }),
});

/** How the gateway process logs; read by `main.ts` beside the config. */
export const GatewayLogEnv = Type.Object({
  LOG_LEVEL: stringEnum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
    default: 'info',
    messages: {
      invalid: ({ text }) =>
        `LOG_LEVEL must be one of trace|debug|info|warn|error|fatal|silent, got "${text}"`,
    } satisfies Messages,
  }),
  /** One access-log line per finished call. */
  ACCESS_LOG: stringEnum(['true', 'false'], {
    default: 'true',
    messages: { invalid: ({ text }) => `ACCESS_LOG must be true|false, got "${text}"` } satisfies Messages,
  }),
});

/** The admin listener (README "Admin listener and metrics"); read by `main.ts` beside the config. */
export const GatewayAdminEnv = Type.Object({
  /** 0 disables the admin listener (and the metrics). */
  ADMIN_PORT: integer('a port (0-65535, 0 = disabled)', { default: 9901, minimum: 0, maximum: 65_535 }),
  ADMIN_HOST: Type.String({
    default: '127.0.0.1',
    check: (host: string) => (isIP(host) !== 0 || HOST_NAME.test(host) ? undefined : 'not a host'),
    messages: {
      check: ({ text }) => `ADMIN_HOST must be an IP address or a host name, got ${JSON.stringify(text)}`,
    } satisfies Messages,
  }),
  /** When set, every admin request needs `Authorization: Bearer <token>`; actions need it always. */
  ADMIN_TOKEN: Type.Optional(Type.String()),
});
