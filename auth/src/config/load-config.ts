import {
  type Env,
  LOG_LEVELS,
  type LogLevel,
  loadEnvConfigWith,
  type Messages,
  stringEnum,
  Type,
} from '@stickygw/servicekit';
import { DurationError, parseGoDuration } from './duration.js';
import { redisUrlProblem } from './redis-url.js';

/** The auth service's validated, frozen configuration (REFERENCE.md 3.1 plus the rewrite's additions). */
export interface AuthConfig {
  readonly port: number;
  readonly listenHost: string;
  readonly redisUrl: string;
  /**
   * `JWT_SECRET` or `JWT_SECRET_FILE`, trimmed, like every service of the stack does (HELPERS
   * cross-service contract). Auth only signs, so a rotation's `JWT_SECRET_PREVIOUS` is not its concern.
   */
  readonly jwtSecret: string;
  readonly tokenExpirationMs: number;
  readonly seedTestUser: boolean;
  readonly logLevel: LogLevel;
}

export const DEFAULT_REDIS_URL = 'redis://localhost:6379';

function tokenExpirationProblem(text: string): string | undefined {
  let millis: number;
  try {
    millis = parseGoDuration(text);
  } catch (error) {
    if (error instanceof DurationError) return error.message;
    throw error;
  }
  return millis > 0 ? undefined : `must be greater than zero, got ${JSON.stringify(text)}`;
}

/**
 * The auth service's environment, in the reference's checking order (REFERENCE.md 3.1: port, Redis
 * address, token expiration, then the secret), then the rewrite's own variables. Only the secret
 * and LISTEN_HOST are trimmed; the others are checked as set.
 */
const AuthEnv = Type.Object({
  SERVICE_PORT_GRPC: Type.Integer({
    trim: false,
    default: 5001,
    minimum: 1,
    maximum: 65535,
    messages: {
      type: ({ text }) => `invalid SERVICE_PORT_GRPC: ${JSON.stringify(text)} is not an integer`,
      invalid: ({ text }) => `invalid SERVICE_PORT_GRPC: must be in 1..65535, got ${JSON.stringify(text)}`,
    } satisfies Messages,
  }),
  REDIS_ADDR: Type.String({
    trim: false,
    default: DEFAULT_REDIS_URL,
    check: redisUrlProblem,
    messages: { check: ({ reason }) => String(reason) } satisfies Messages,
  }),
  TOKEN_EXPIRATION: Type.String({
    trim: false,
    default: '1h',
    check: tokenExpirationProblem,
    messages: { check: ({ reason }) => `invalid TOKEN_EXPIRATION: ${reason}` } satisfies Messages,
  }),
  // Inline or from a file: read and checked by readSecretSetting, declared here for the order.
  JWT_SECRET: Type.Optional(Type.String()),
  JWT_SECRET_FILE: Type.Optional(Type.String()),
  LISTEN_HOST: Type.String({ default: '127.0.0.1' }),
  AUTH_SEED_TEST_USER: Type.Boolean({
    trim: false,
    default: true,
    messages: {
      type: ({ text }) => `invalid AUTH_SEED_TEST_USER: must be true or false, got ${JSON.stringify(text)}`,
    } satisfies Messages,
  }),
  LOG_LEVEL: stringEnum(LOG_LEVELS, {
    trim: false,
    default: 'info',
    messages: {
      invalid: ({ text }) =>
        `invalid LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`,
    } satisfies Messages,
  }),
});

/**
 * Reads the auth service's environment; every problem is reported at once, in {@link AuthEnv}'s
 * order, as one ConfigError. Only `main.ts` passes `process.env` here.
 */
export function loadConfig(env: Env): AuthConfig {
  return loadEnvConfigWith(AuthEnv, env, {
    extras: (read) => {
      const jwtSecret = read.requiredSecret('JWT_SECRET', 'JWT_SECRET is required and must not be empty');
      return jwtSecret === undefined ? undefined : { jwtSecret };
    },
    build: (settings, { jwtSecret }) => ({
      port: settings.SERVICE_PORT_GRPC,
      listenHost: settings.LISTEN_HOST,
      redisUrl: settings.REDIS_ADDR,
      jwtSecret,
      tokenExpirationMs: parseGoDuration(settings.TOKEN_EXPIRATION),
      seedTestUser: settings.AUTH_SEED_TEST_USER,
      logLevel: settings.LOG_LEVEL,
    }),
  });
}
