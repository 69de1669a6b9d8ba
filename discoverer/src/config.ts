import {
  type Env,
  LOG_LEVELS,
  loadEnvConfigWith,
  type Messages,
  stringEnum,
  Type,
} from '@stickygw/servicekit';
import type { LevelWithSilent } from 'pino';

/** The discoverer's settings, read from the environment by `loadConfig` only. */
export interface DiscovererConfig {
  /** `redis://` or `rediss://` URL handed to ioredis. */
  readonly redisUrl: string;
  readonly port: number;
  readonly listenHost: string;
  readonly logLevel: LevelWithSilent;
  /**
   * `DISCOVERER_TOKEN(_FILE)`: bearer tokens that may register and unregister (and read). Empty: the
   * registry is open, as in the reference.
   */
  readonly writeTokens: readonly string[];
  /** `DISCOVERER_READ_TOKEN(_FILE)`: tokens that may only list. Empty: listing is open. */
  readonly readTokens: readonly string[];
}

/** The reference takes a URL (compose sets redis://redis:6379); a bare host:port is accepted too. */
function withScheme(value: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `redis://${value}`;
}

function redisAddrProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(withScheme(value));
  } catch {
    return `cannot parse ${JSON.stringify(value)} as redis://host:port`;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return `scheme must be redis:// or rediss://, got ${url.protocol}//`;
  }
  return url.hostname === '' ? 'host is missing' : undefined;
}

/** REFERENCE.md 4.1 plus LISTEN_HOST and LOG_LEVEL; values are taken as set, untrimmed. */
const DiscovererEnv = Type.Object({
  REDIS_ADDR: Type.String({
    trim: false,
    check: redisAddrProblem,
    messages: {
      required: () => 'REDIS_ADDR is required',
      check: ({ reason }) => `invalid REDIS_ADDR: ${reason}`,
    } satisfies Messages,
  }),
  SERVICE_PORT_HTTP: Type.Integer({
    trim: false,
    minimum: 1,
    maximum: 65535,
    messages: {
      required: () => 'SERVICE_PORT_HTTP is required',
      type: ({ text }) => `invalid SERVICE_PORT_HTTP: ${JSON.stringify(text)} is not an integer`,
      invalid: ({ value }) => `invalid SERVICE_PORT_HTTP: ${value} is out of range 1..65535`,
    } satisfies Messages,
  }),
  LISTEN_HOST: Type.String({ trim: false, default: '127.0.0.1' }),
  LOG_LEVEL: stringEnum(LOG_LEVELS, {
    trim: false,
    default: 'info',
    messages: {
      invalid: ({ text }) =>
        `invalid LOG_LEVEL: ${JSON.stringify(text)} is not one of ${LOG_LEVELS.join(', ')}`,
    } satisfies Messages,
  }),
  // Secrets: read (and checked) by readSecretSetting, declared here for the order of the problems.
  DISCOVERER_TOKEN: Type.Optional(Type.String()),
  DISCOVERER_TOKEN_FILE: Type.Optional(Type.String()),
  DISCOVERER_READ_TOKEN: Type.Optional(Type.String()),
  DISCOVERER_READ_TOKEN_FILE: Type.Optional(Type.String()),
});

/**
 * Reads and validates the environment (the tokens inline or from their `_FILE`); throws a
 * ConfigError listing every problem at once.
 */
export function loadConfig(env: Env): DiscovererConfig {
  return loadEnvConfigWith(DiscovererEnv, env, {
    extras: (read) => {
      const writeTokens = splitTokens(read.secret('DISCOVERER_TOKEN'));
      const readTokens = splitTokens(read.secret('DISCOVERER_READ_TOKEN'));
      if (readTokens.length > 0 && writeTokens.length === 0) {
        read.report({
          path: ['DISCOVERER_READ_TOKEN'],
          message:
            'DISCOVERER_READ_TOKEN is set without DISCOVERER_TOKEN: anyone could register but not list',
        });
      }
      return { writeTokens, readTokens };
    },
    build: (settings, { writeTokens, readTokens }) => ({
      redisUrl: withScheme(settings.REDIS_ADDR),
      port: settings.SERVICE_PORT_HTTP,
      listenHost: settings.LISTEN_HOST,
      logLevel: settings.LOG_LEVEL,
      writeTokens,
      readTokens,
    }),
  });
}

/** Several tokens (one per team or worker pool) are separated by commas or newlines. */
function splitTokens(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[,\n]/)
    .map((token) => token.trim())
    .filter((token) => token !== '');
}

/** The Redis URL without its password, for messages and logs. */
export function describeRedisUrl(redisUrl: string): string {
  const url = new URL(redisUrl);
  if (url.password !== '') url.password = '***';
  return url.toString();
}
