import { ConfigError } from './config-error.js';
import { DurationError, parseGoDuration } from './duration.js';
import { parseRedisUrl } from './redis-url.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The auth service's validated, frozen configuration (REFERENCE.md 3.1 plus the rewrite's additions). */
export interface AuthConfig {
  readonly port: number;
  readonly listenHost: string;
  readonly redisUrl: string;
  /** Trimmed, like every service of the stack does (HELPERS cross-service contract). */
  readonly jwtSecret: string;
  readonly tokenExpirationMs: number;
  readonly seedTestUser: boolean;
  readonly logLevel: LogLevel;
}

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_PORT = 5001;
export const DEFAULT_REDIS_URL = 'redis://localhost:6379';
export const DEFAULT_TOKEN_EXPIRATION = '1h';
export const DEFAULT_LISTEN_HOST = '127.0.0.1';

/** Unset and empty mean the same thing for variables that have a default. */
function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT;
  if (!/^[+-]?\d+$/.test(text)) {
    throw new ConfigError(`invalid SERVICE_PORT_GRPC: ${JSON.stringify(text)} is not an integer`);
  }
  const port = Number(text);
  if (port < 1 || port > 65535) {
    throw new ConfigError(`invalid SERVICE_PORT_GRPC: must be in 1..65535, got ${JSON.stringify(text)}`);
  }
  return port;
}

function parseTokenExpiration(text: string): number {
  let millis: number;
  try {
    millis = parseGoDuration(text);
  } catch (error) {
    if (error instanceof DurationError) throw new ConfigError(`invalid TOKEN_EXPIRATION: ${error.message}`);
    throw error;
  }
  if (!(millis > 0)) {
    throw new ConfigError(`invalid TOKEN_EXPIRATION: must be greater than zero, got ${JSON.stringify(text)}`);
  }
  return millis;
}

function parseBoolean(name: string, text: string | undefined, fallback: boolean): boolean {
  if (text === undefined) return fallback;
  const normalized = text.trim().toLowerCase();
  if (normalized === 'true' || normalized === '1') return true;
  if (normalized === 'false' || normalized === '0') return false;
  throw new ConfigError(`invalid ${name}: must be true or false, got ${JSON.stringify(text)}`);
}

function parseLogLevel(text: string | undefined): LogLevel {
  if (text === undefined) return 'info';
  const level = LOG_LEVELS.find((candidate) => candidate === text);
  if (level === undefined) {
    throw new ConfigError(
      `invalid LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`,
    );
  }
  return level;
}

/**
 * Reads the auth service's environment. Checks run in the reference's order (REFERENCE.md 3.1: port,
 * Redis address, token expiration, then the secret, so a bad TOKEN_EXPIRATION is reported before a
 * missing secret), then the rewrite's own variables; the first failing check throws a {@link ConfigError}.
 * Only `main.ts` passes `process.env` here.
 */
export function loadConfig(env: Env): AuthConfig {
  const port = parsePort(nonEmpty(env, 'SERVICE_PORT_GRPC'));
  const redisUrl = parseRedisUrl(nonEmpty(env, 'REDIS_ADDR') ?? DEFAULT_REDIS_URL);
  const jwtSecret = (env.JWT_SECRET ?? '').trim();
  const tokenExpirationMs = parseTokenExpiration(
    nonEmpty(env, 'TOKEN_EXPIRATION') ?? DEFAULT_TOKEN_EXPIRATION,
  );
  if (jwtSecret === '') throw new ConfigError('JWT_SECRET is required and must not be empty');
  const listenHost = nonEmpty(env, 'LISTEN_HOST')?.trim() || DEFAULT_LISTEN_HOST;
  const seedTestUser = parseBoolean('AUTH_SEED_TEST_USER', nonEmpty(env, 'AUTH_SEED_TEST_USER'), true);
  const logLevel = parseLogLevel(nonEmpty(env, 'LOG_LEVEL'));
  return Object.freeze({ port, listenHost, redisUrl, jwtSecret, tokenExpirationMs, seedTestUser, logLevel });
}
