import type { LevelWithSilent } from 'pino';

/** The discoverer's settings, read from the environment by `loadConfig` only. */
export interface DiscovererConfig {
  /** `redis://` or `rediss://` URL handed to ioredis. */
  readonly redisUrl: string;
  readonly port: number;
  readonly listenHost: string;
  readonly logLevel: LevelWithSilent;
}

/** Every configuration problem, one per line, each naming its variable (REFERENCE.md 4.1). */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parseRedisAddr(value: string): string | { problem: string } {
  // The reference takes a URL (compose sets redis://redis:6379); a bare host:port is accepted too.
  const candidate = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `redis://${value}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return { problem: `invalid REDIS_ADDR: cannot parse ${JSON.stringify(value)} as redis://host:port` };
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return { problem: `invalid REDIS_ADDR: scheme must be redis:// or rediss://, got ${url.protocol}//` };
  }
  if (url.hostname === '') return { problem: 'invalid REDIS_ADDR: host is missing' };
  return candidate;
}

function parsePort(value: string): number | { problem: string } {
  if (!/^[+-]?\d+$/.test(value)) {
    return { problem: `invalid SERVICE_PORT_HTTP: ${JSON.stringify(value)} is not an integer` };
  }
  const port = Number(value);
  if (port < 1 || port > 65535) {
    return { problem: `invalid SERVICE_PORT_HTTP: ${port} is out of range 1..65535` };
  }
  return port;
}

/** Reads and validates the environment; throws a ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv): DiscovererConfig {
  const problems: string[] = [];

  let redisUrl = '';
  const redisAddr = env.REDIS_ADDR ?? '';
  if (redisAddr === '') problems.push('REDIS_ADDR is required');
  else {
    const parsed = parseRedisAddr(redisAddr);
    if (typeof parsed === 'string') redisUrl = parsed;
    else problems.push(parsed.problem);
  }

  let port = 0;
  const portText = env.SERVICE_PORT_HTTP ?? '';
  if (portText === '') problems.push('SERVICE_PORT_HTTP is required');
  else {
    const parsed = parsePort(portText);
    if (typeof parsed === 'number') port = parsed;
    else problems.push(parsed.problem);
  }

  const listenHost = env.LISTEN_HOST || '127.0.0.1';

  const logLevel = (env.LOG_LEVEL || 'info') as LevelWithSilent;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(
      `invalid LOG_LEVEL: ${JSON.stringify(env.LOG_LEVEL)} is not one of ${LOG_LEVELS.join(', ')}`,
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ redisUrl, port, listenHost, logLevel });
}

/** The Redis URL without its password, for messages and logs. */
export function describeRedisUrl(redisUrl: string): string {
  const url = new URL(redisUrl);
  if (url.password !== '') url.password = '***';
  return url.toString();
}
