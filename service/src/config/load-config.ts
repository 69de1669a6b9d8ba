import { isIPv4 } from 'node:net';
import {
  type Env,
  LOG_LEVELS,
  loadEnvConfigWith,
  type Messages,
  stringEnum,
  Type,
} from '@stickygw/servicekit';
import { detectIpv4, type NetworkInterfaces } from './detect-ipv4.js';
import type { ServiceConfig } from './service-config.js';

/** Every refusal of the reference (REFERENCE.md 5.1) ends `got: <the value as set>`. */
const got =
  (problem: string) =>
  ({ raw }: { readonly raw: string | undefined }) =>
    `${problem}, got: ${raw}`;

/**
 * The worker's environment, in the reference's checking order (REFERENCE.md 5.1), with the
 * rewrite's additions (`DISCOVERABLE_HOST`, `SUBSCRIBE_INTERVAL_MS`, `LISTEN_HOST`, `LOG_LEVEL`) in the
 * slots where they belong. Unset and blank values count as "not set" throughout.
 */
const ServiceEnv = Type.Object({
  // 0 is accepted on top of the reference's 1-65535: the kernel then picks a free port.
  SERVICE_PORT_GRPC: Type.Integer({
    default: 5000,
    minimum: 0,
    maximum: 65_535,
    messages: { invalid: got('SERVICE_PORT_GRPC must be a valid port number (1-65535)') } satisfies Messages,
  }),
  // Only slashes is no URL either: they are stripped.
  MY_DISCOVERER_URL: Type.String({
    pattern: '[^/]',
    messages: { invalid: () => 'MY_DISCOVERER_URL is required but not set' } satisfies Messages,
  }),
  /** Takes precedence over HOSTNAME. */
  INSTANCE_ID: Type.Optional(Type.String()),
  HOSTNAME: Type.Optional(Type.String()),
  // The discoverer only accepts an IPv4 address, so a hostname here would never register.
  DISCOVERABLE_HOST: Type.Optional(
    Type.String({
      check: (host: string) => (isIPv4(host) ? undefined : 'not an IPv4 address'),
      messages: {
        invalid: ({ raw }) => `DISCOVERABLE_HOST must be an IPv4 address, got: ${raw}`,
      } satisfies Messages,
    }),
  ),
  REGISTRATION_TTL_MS: Type.Integer({
    default: 300_000,
    minimum: 1,
    maximum: 600_000,
    messages: { invalid: got('REGISTRATION_TTL_MS must be between 1 and 600000') } satisfies Messages,
  }),
  REGISTRATION_HEARTBEAT_INTERVAL_MS: Type.Integer({
    default: 120_000,
    minimum: 1,
    messages: {
      invalid: got('REGISTRATION_HEARTBEAT_INTERVAL_MS must be greater than 0'),
    } satisfies Messages,
  }),
  // Secrets inline or from a file (read and checked by readSecretSetting), declared for the order.
  JWT_SECRET: Type.Optional(Type.String()),
  JWT_SECRET_FILE: Type.Optional(Type.String()),
  JWT_SECRET_PREVIOUS: Type.Optional(Type.String()),
  JWT_SECRET_PREVIOUS_FILE: Type.Optional(Type.String()),
  SUBSCRIBE_INTERVAL_MS: Type.Integer({
    default: 5_000,
    minimum: 1,
    messages: { invalid: got('SUBSCRIBE_INTERVAL_MS must be greater than 0') } satisfies Messages,
  }),
  LISTEN_HOST: Type.String({ default: '127.0.0.1' }),
  // The discoverer's write token, inline or from a file (checked by readSecretSetting).
  DISCOVERER_TOKEN: Type.Optional(Type.String()),
  DISCOVERER_TOKEN_FILE: Type.Optional(Type.String()),
  LOG_LEVEL: stringEnum(LOG_LEVELS, {
    default: 'info',
    messages: { invalid: got(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`) } satisfies Messages,
  }),
});

/**
 * Validates the worker's environment ({@link ServiceEnv}) and throws a ConfigError with every
 * problem, in the reference order. Beyond the schema: the instance id is `INSTANCE_ID`, else
 * `HOSTNAME` (when both are blank the message stays the reference's `HOSTNAME is required but not
 * set`, with a hint naming `INSTANCE_ID`), and an unset `DISCOVERABLE_HOST` is auto-detected.
 */
export function loadConfig(env: Env, interfaces: () => NetworkInterfaces): ServiceConfig {
  return loadEnvConfigWith(ServiceEnv, env, {
    extras: (read) => {
      const instanceId = nonBlank(env.INSTANCE_ID) ?? nonBlank(env.HOSTNAME);
      if (instanceId === undefined) {
        read.report({
          path: ['HOSTNAME'],
          message: 'HOSTNAME is required but not set',
          hint: 'Set INSTANCE_ID (preferred) or HOSTNAME to the id this instance registers under.',
        });
      }
      const advertisedIpv4 = nonBlank(env.DISCOVERABLE_HOST) ?? detectIpv4(interfaces());
      if (advertisedIpv4 === undefined) {
        read.report({ path: ['DISCOVERABLE_HOST'], message: 'Could not auto-detect primary IPv4 address' });
      }
      const jwtSecret = read.requiredSecret('JWT_SECRET', 'JWT_SECRET is required but not set');
      const jwtPreviousSecret = read.secret('JWT_SECRET_PREVIOUS');
      const discovererToken = read.secret('DISCOVERER_TOKEN');
      if (instanceId === undefined || advertisedIpv4 === undefined || jwtSecret === undefined)
        return undefined;
      return { instanceId, advertisedIpv4, jwtSecret, jwtPreviousSecret, discovererToken };
    },
    build: (settings, { instanceId, advertisedIpv4, jwtSecret, jwtPreviousSecret, discovererToken }) => ({
      port: settings.SERVICE_PORT_GRPC,
      listenHost: settings.LISTEN_HOST,
      discovererUrl: settings.MY_DISCOVERER_URL.replace(/\/+$/, ''),
      instanceId,
      advertisedIpv4,
      registrationTtlMs: settings.REGISTRATION_TTL_MS,
      heartbeatIntervalMs: settings.REGISTRATION_HEARTBEAT_INTERVAL_MS,
      jwtSecret,
      ...(jwtPreviousSecret === undefined ? {} : { jwtPreviousSecret }),
      subscribeIntervalMs: settings.SUBSCRIBE_INTERVAL_MS,
      logLevel: settings.LOG_LEVEL,
      ...(discovererToken === undefined ? {} : { discovererToken }),
    }),
  });
}

/** The trimmed value, or `undefined` when unset or blank (as the schema reads it). */
function nonBlank(value: string | undefined): string | undefined {
  const text = value?.trim();
  return text === undefined || text === '' ? undefined : text;
}
