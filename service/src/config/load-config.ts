import { isIPv4 } from 'node:net';
import type { Level } from 'pino';
import { ConfigError } from './config-error.js';
import { detectIpv4, type NetworkInterfaces } from './detect-ipv4.js';
import type { ServiceConfig } from './service-config.js';

const DEFAULT_PORT = 5000;
const DEFAULT_TTL_MS = 300_000;
const MAX_TTL_MS = 600_000;
const DEFAULT_HEARTBEAT_INTERVAL_MS = 120_000;
const DEFAULT_SUBSCRIBE_INTERVAL_MS = 5_000;
const DEFAULT_LISTEN_HOST = '127.0.0.1';
const LOG_LEVELS: readonly (Level | 'silent')[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

/**
 * Validates the worker's environment in the reference order (REFERENCE.md 5.1) and throws a
 * {@link ConfigError} carrying the reference message on the first invalid value; the additions of
 * the rewrite (`DISCOVERABLE_HOST`, `SUBSCRIBE_INTERVAL_MS`, `LISTEN_HOST`, `LOG_LEVEL`) are checked in
 * the slots where they belong. Unset and blank values count as "not set" throughout.
 *
 * `INSTANCE_ID` takes precedence over `HOSTNAME`; when both are blank the message stays the
 * reference's `HOSTNAME is required but not set`, with a hint line naming `INSTANCE_ID`.
 */
export function loadConfig(env: NodeJS.ProcessEnv, interfaces: () => NetworkInterfaces): ServiceConfig {
  const rawPort = nonBlank(env.SERVICE_PORT_GRPC);
  const port = rawPort === undefined ? DEFAULT_PORT : parseInteger(rawPort);
  // 0 is accepted on top of the reference's 1-65535: the kernel then picks a free port.
  if (port === undefined || port < 0 || port > 65_535) {
    throw new ConfigError(
      `SERVICE_PORT_GRPC must be a valid port number (1-65535), got: ${env.SERVICE_PORT_GRPC}`,
    );
  }

  const discovererUrl = (nonBlank(env.MY_DISCOVERER_URL) ?? '').replace(/\/+$/, '');
  if (discovererUrl === '') throw new ConfigError('MY_DISCOVERER_URL is required but not set');

  const instanceId = nonBlank(env.INSTANCE_ID) ?? nonBlank(env.HOSTNAME);
  if (instanceId === undefined) {
    throw new ConfigError(
      'HOSTNAME is required but not set',
      'Set INSTANCE_ID (preferred) or HOSTNAME to the id this instance registers under.',
    );
  }

  const advertisedIpv4 = resolveAdvertisedIpv4(env.DISCOVERABLE_HOST, interfaces);

  const registrationTtlMs = integerSetting(
    env.REGISTRATION_TTL_MS,
    DEFAULT_TTL_MS,
    (v) => v >= 1 && v <= MAX_TTL_MS,
  );
  if (registrationTtlMs === undefined) {
    throw new ConfigError(
      `REGISTRATION_TTL_MS must be between 1 and ${MAX_TTL_MS}, got: ${env.REGISTRATION_TTL_MS}`,
    );
  }

  const heartbeatIntervalMs = integerSetting(
    env.REGISTRATION_HEARTBEAT_INTERVAL_MS,
    DEFAULT_HEARTBEAT_INTERVAL_MS,
    (v) => v > 0,
  );
  if (heartbeatIntervalMs === undefined) {
    throw new ConfigError(
      `REGISTRATION_HEARTBEAT_INTERVAL_MS must be greater than 0, got: ${env.REGISTRATION_HEARTBEAT_INTERVAL_MS}`,
    );
  }

  const jwtSecret = nonBlank(env.JWT_SECRET);
  if (jwtSecret === undefined) throw new ConfigError('JWT_SECRET is required but not set');

  const subscribeIntervalMs = integerSetting(
    env.SUBSCRIBE_INTERVAL_MS,
    DEFAULT_SUBSCRIBE_INTERVAL_MS,
    (v) => v > 0,
  );
  if (subscribeIntervalMs === undefined) {
    throw new ConfigError(`SUBSCRIBE_INTERVAL_MS must be greater than 0, got: ${env.SUBSCRIBE_INTERVAL_MS}`);
  }

  const listenHost = nonBlank(env.LISTEN_HOST) ?? DEFAULT_LISTEN_HOST;

  const rawLogLevel = nonBlank(env.LOG_LEVEL) ?? 'info';
  const logLevel = LOG_LEVELS.find((level) => level === rawLogLevel);
  if (logLevel === undefined) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got: ${env.LOG_LEVEL}`);
  }

  return Object.freeze({
    port,
    listenHost,
    discovererUrl,
    instanceId,
    advertisedIpv4,
    registrationTtlMs,
    heartbeatIntervalMs,
    jwtSecret,
    subscribeIntervalMs,
    logLevel,
  });
}

function resolveAdvertisedIpv4(override: string | undefined, interfaces: () => NetworkInterfaces): string {
  const host = nonBlank(override);
  if (host !== undefined) {
    // The discoverer only accepts an IPv4 address, so a hostname here would never register.
    if (!isIPv4(host)) throw new ConfigError(`DISCOVERABLE_HOST must be an IPv4 address, got: ${override}`);
    return host;
  }
  const detected = detectIpv4(interfaces());
  if (detected === undefined) throw new ConfigError('Could not auto-detect primary IPv4 address');
  return detected;
}

/** `fallback` when blank, the parsed value when it is an integer accepted by `valid`, else `undefined`. */
function integerSetting(
  raw: string | undefined,
  fallback: number,
  valid: (value: number) => boolean,
): number | undefined {
  const text = nonBlank(raw);
  if (text === undefined) return fallback;
  const value = parseInteger(text);
  return value !== undefined && valid(value) ? value : undefined;
}

function parseInteger(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The trimmed value, or `undefined` when unset or blank. */
function nonBlank(value: string | undefined): string | undefined {
  const text = value?.trim();
  return text === undefined || text === '' ? undefined : text;
}
