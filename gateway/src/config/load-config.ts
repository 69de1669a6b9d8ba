import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from './config-error.js';
import {
  describeYamlValue,
  type GatewayYamlConfig,
  type GatewayYamlValidation,
  MAX_TIMER_MS,
  validateGatewayDocument,
} from './schema.js';
import type { GatewayConfig, GatewayLimits } from './types.js';

export interface LoadConfigOptions {
  /** Base for a relative CONFIG_PATH; default `process.cwd()`. */
  readonly cwd?: string;
  /** Default: `readFileSync(path, 'utf8')`. */
  readonly readFile?: (path: string) => string;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Builds the gateway configuration from the environment and the YAML file it names
 * (REFERENCE.md 6.1, 6.2). Only `main.ts` passes `process.env`; nothing here starts anything.
 *
 * Unlike the reference, which stops at the first failure, every problem is collected, in the
 * reference's checking order (so `problems[0]` is the reference's message), and thrown as one
 * {@link ConfigError}. The result is deep-frozen.
 *
 * Variables beyond the reference (blank counts as unset): LISTEN_HOST (default 127.0.0.1),
 * MAX_MESSAGE_BYTES (unset = no limit: messages are bounded by flow control), MAX_REPLAY_BUFFER_BYTES (1048576, may be 0 to disable replay of
 * client streams), SHUTDOWN_GRACE_MS (5000), HANDSHAKE_TIMEOUT_MS (10000), IDLE_TIMEOUT_MS (300000,
 * 0 = never).
 */
export function loadGatewayConfig(env: Env, options: LoadConfigOptions = {}): GatewayConfig {
  const problems: string[] = [];
  const collect = <T>(result: Checked<T>): T | undefined => {
    if (result.problem !== undefined) {
      problems.push(result.problem);
      return undefined;
    }
    return result.value;
  };

  // 6.1 steps 1-3.
  const port = collect(readPort(env.SERVICE_PORT_GRPC));
  const configPathValue = env.CONFIG_PATH?.trim() ?? '';
  let configPath: string | undefined;
  let yaml: GatewayYamlValidation | undefined;
  if (configPathValue === '') {
    problems.push('CONFIG_PATH is required');
  } else {
    configPath = resolve(options.cwd ?? process.cwd(), configPathValue);
    const text = collect(
      readConfigFile(configPath, options.readFile ?? ((path) => readFileSync(path, 'utf8'))),
    );
    if (text !== undefined) {
      // Steps 4-8 (and type problems, which the reference fails while unmarshalling in step 3).
      yaml = interpretGatewayYaml(text, configPath);
      problems.push(...yaml.problems);
    }
  }

  // Step 9. Whether a route needs the secret is unknowable if the file could not be read.
  const jwtSecret = env.JWT_SECRET?.trim() || undefined;
  if (yaml?.requiresJwt && jwtSecret === undefined) {
    problems.push('JWT_SECRET is required when at least one route has authorization=required');
  }

  // Steps 10-11.
  const retryCount = collect(
    readInteger(env.RETRY_COUNT, {
      missing: 'RETRY_COUNT is required',
      invalid: (quoted) => `RETRY_COUNT must be a positive integer, got ${quoted}`,
      min: 1,
    }),
  );
  const retryTimeoutMs = collect(
    readInteger(env.RETRY_TIMEOUT_MS, {
      missing: 'RETRY_TIMEOUT_MS is required',
      invalid: (quoted) => `RETRY_TIMEOUT_MS must be a positive integer (ms), got ${quoted}`,
      min: 1,
      max: MAX_TIMER_MS,
    }),
  );

  // Beyond the reference.
  const host = collect(readListenHost(env.LISTEN_HOST));
  const maxMessageBytes = collect(
    readInteger(env.MAX_MESSAGE_BYTES, {
      // 0 stands for "no limit" inside; as a setting the limit must be positive.
      fallback: 0,
      invalid: (quoted) => `MAX_MESSAGE_BYTES must be a positive integer (bytes), got ${quoted}`,
      min: 1,
    }),
  );
  const maxReplayBufferBytes = collect(
    readInteger(env.MAX_REPLAY_BUFFER_BYTES, {
      fallback: 1_048_576,
      invalid: (quoted) => `MAX_REPLAY_BUFFER_BYTES must be a non-negative integer (bytes), got ${quoted}`,
      min: 0,
    }),
  );
  const shutdownGraceMs = collect(
    readInteger(env.SHUTDOWN_GRACE_MS, {
      fallback: 5000,
      invalid: (quoted) => `SHUTDOWN_GRACE_MS must be a positive integer (ms), got ${quoted}`,
      min: 1,
      max: MAX_TIMER_MS,
    }),
  );

  const handshakeTimeoutMs = collect(
    readInteger(env.HANDSHAKE_TIMEOUT_MS, {
      fallback: 10_000,
      invalid: (quoted) => `HANDSHAKE_TIMEOUT_MS must be a positive integer (ms), got ${quoted}`,
      min: 1,
      max: MAX_TIMER_MS,
    }),
  );
  const idleTimeoutMs = collect(
    readInteger(env.IDLE_TIMEOUT_MS, {
      fallback: 300_000,
      invalid: (quoted) => `IDLE_TIMEOUT_MS must be a non-negative integer (ms), got ${quoted}`,
      min: 0,
      max: MAX_TIMER_MS,
    }),
  );

  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  const limits: GatewayLimits = {
    maxMessageBytes: maxMessageBytes as number,
    maxReplayBufferBytes: maxReplayBufferBytes as number,
    shutdownGraceMs: shutdownGraceMs as number,
    handshakeTimeoutMs: handshakeTimeoutMs as number,
    idleTimeoutMs: idleTimeoutMs as number,
  };
  const config: GatewayConfig = {
    port: port as number,
    host: host as string,
    configPath: configPath as string,
    jwtSecret,
    retryCount: retryCount as number,
    retryTimeoutMs: retryTimeoutMs as number,
    ...(yaml?.config as GatewayYamlConfig),
    limits,
  };
  return deepFreeze(config);
}

/**
 * The YAML part alone (REFERENCE.md 6.2), for tests and fuzzing. `source` only names the text in
 * syntax-error messages (`load config <source>: <reason>`). Throws {@link ConfigError}; the
 * result is deep-frozen.
 */
export function parseGatewayYaml(text: string, source = '<inline>'): GatewayYamlConfig {
  const result = interpretGatewayYaml(text, source);
  if (result.config === undefined) {
    throw new ConfigError(result.problems);
  }
  return deepFreeze(result.config);
}

/**
 * An empty document (or one holding only comments) is an empty configuration, as in the
 * reference (Go's yaml.Unmarshal leaves the zero value): no routes, `default.action: error`.
 */
function interpretGatewayYaml(text: string, source: string): GatewayYamlValidation {
  const loadFailure = (reason: string): GatewayYamlValidation => ({
    config: undefined,
    problems: [`load config ${source}: ${reason}`],
    requiresJwt: false,
  });
  // stringKeys: `10:` and `010:` stay distinct cluster ids; YAML 1.2 core schema: `yes` is a string.
  const document = parseDocument(text, { stringKeys: true, prettyErrors: true });
  const syntaxError = document.errors[0];
  if (syntaxError !== undefined) {
    return loadFailure(firstLine(syntaxError.message));
  }
  let value: unknown;
  try {
    // mapAsMap keeps file order for integer-like keys and makes `__proto__` an ordinary key.
    value = document.toJS({ mapAsMap: true, maxAliasCount: 100 });
  } catch (error) {
    // An alias bomb ("Excessive alias count ...").
    return loadFailure(firstLine(error instanceof Error ? error.message : String(error)));
  }
  if (value !== null && value !== undefined && !(value instanceof Map)) {
    return loadFailure(`the document must be a mapping, got ${describeYamlValue(value)}`);
  }
  return validateGatewayDocument(value);
}

function readConfigFile(path: string, readFile: (path: string) => string): Checked<string> {
  try {
    return { value: readFile(path) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { problem: `load config ${path}: ${firstLine(reason)}` };
  }
}

type Checked<T> = { value: T; problem?: undefined } | { value?: undefined; problem: string };

/** Like Go's strconv.Atoi then a range check: `+80` and ` 80 ` are 80. */
function readPort(raw: string | undefined): Checked<number> {
  const value = raw?.trim() ?? '';
  const n = /^[+-]?[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    return { problem: 'SERVICE_PORT_GRPC must be a valid port (1-65535)' };
  }
  if (n < 1 || n > 65_535) {
    return { problem: `SERVICE_PORT_GRPC must be 1-65535, got ${n}` };
  }
  return { value: n };
}

interface IntegerRule {
  /** Message when unset or blank; give either this or `fallback`. */
  readonly missing?: string;
  readonly fallback?: number;
  /** Gets the trimmed value already quoted (JSON, so a stray newline cannot split the message). */
  readonly invalid: (quotedValue: string) => string;
  readonly min: number;
  /** Larger values would overflow a Node timer (it then fires after 1 ms). */
  readonly max?: number;
}

function readInteger(raw: string | undefined, rule: IntegerRule): Checked<number> {
  const value = raw?.trim() ?? '';
  if (value === '') {
    return rule.fallback !== undefined
      ? { value: rule.fallback }
      : { problem: rule.missing ?? rule.invalid(JSON.stringify(value)) };
  }
  const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < rule.min) {
    return { problem: rule.invalid(JSON.stringify(value)) };
  }
  if (rule.max !== undefined && n > rule.max) {
    return { problem: `${rule.invalid(JSON.stringify(value))} (at most ${rule.max})` };
  }
  return { value: n };
}

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function readListenHost(raw: string | undefined): Checked<string> {
  const value = raw?.trim() ?? '';
  if (value === '') {
    return { value: '127.0.0.1' };
  }
  if (isIP(value) !== 0 || HOST_NAME.test(value)) {
    return { value };
  }
  return { problem: `LISTEN_HOST must be an IP address or a host name, got ${JSON.stringify(value)}` };
}

/** Multi-line parser messages (code excerpts) would break `problems.join('\n')`. */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/:$/, '');
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) {
      deepFreeze(child);
    }
  }
  return value;
}
