import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import {
  ConfigError,
  type ConfigProblem,
  deepFreeze,
  describeValue,
  type Env,
  loadEnvConfigWith,
  readSecretSetting,
} from '@stickygw/servicekit';
import { parseDocument } from 'yaml';
import { GatewayEnv } from './env-schema.js';
import type { ClusterConfig, DownstreamTlsConfig, GatewayConfig, UpstreamTlsConfig } from './types.js';
import { type GatewayYamlConfig, type GatewayYamlOutcome, readGatewayYaml } from './yaml-config.js';
import type { ClusterTypeSchema } from './yaml-schema.js';

export interface LoadConfigOptions {
  /** Base for a relative CONFIG_PATH; default `process.cwd()`. */
  readonly cwd?: string;
  /** Default: `readFileSync(path, 'utf8')`. */
  readonly readFile?: (path: string) => string;
  /**
   * Cluster types beyond `static` and `dynamic`: YAML `type` → the schema of its other fields
   * (checked like the built-in ones; a cluster of such a type becomes an `ExtensionClusterConfig`).
   * Each needs a factory of the same name in `GatewayDeps.clusterTypes`.
   */
  readonly clusterTypes?: Readonly<Record<string, ClusterTypeSchema>>;
  /**
   * Default true. False when the embedder passes its own `GatewayDeps.tokenValidator`: routes with
   * `authorization: required` then need no JWT_SECRET.
   */
  readonly requireJwtSecret?: boolean;
}

/**
 * Builds the gateway configuration from the environment ({@link GatewayEnv}) and the YAML file it
 * names (REFERENCE.md 6.1, 6.2). Only `main.ts` passes `process.env`; nothing here starts anything.
 *
 * Unlike the reference, which stops at the first failure, every problem is collected, in the
 * reference's checking order (so `problems[0]` is the reference's message), and thrown as one
 * {@link ConfigError}. The result is deep-frozen.
 */
export function loadGatewayConfig(env: Env, options: LoadConfigOptions = {}): GatewayConfig {
  return loadEnvConfigWith(GatewayEnv, env, {
    extras: (read) => {
      // The file is read even when other variables are wrong, so its problems are reported too.
      const configPathValue = env.CONFIG_PATH?.trim() ?? '';
      const configPath = configPathValue === '' ? '' : resolve(options.cwd ?? process.cwd(), configPathValue);
      let yaml: GatewayYamlOutcome | undefined;
      if (configPath !== '') {
        const file = readConfigFile(configPath, options.readFile ?? ((path) => readFileSync(path, 'utf8')));
        // 6.1 steps 3-8 (type problems are the reference's unmarshalling failures of step 3).
        yaml =
          typeof file === 'string'
            ? interpretGatewayYaml(file, configPath, options.clusterTypes)
            : failedYaml(file.problem);
        for (const problem of yaml.problems) {
          read.report({ ...problem, path: ['CONFIG_PATH', ...problem.path] });
        }
      }

      const jwtSecret = readSecretSetting(env, 'JWT_SECRET');
      const jwtPreviousSecret = readSecretSetting(env, 'JWT_SECRET_PREVIOUS');
      if (!jwtSecret.ok) read.report(jwtSecret.problem);
      if (!jwtPreviousSecret.ok) read.report(jwtPreviousSecret.problem);
      // Step 9. Whether a route needs the secret is unknowable if the file could not be read.
      if (
        yaml?.requiresJwt &&
        options.requireJwtSecret !== false &&
        jwtSecret.ok &&
        jwtSecret.value === undefined
      ) {
        read.report({
          path: ['JWT_SECRET'],
          message: 'JWT_SECRET is required when at least one route has authorization=required',
        });
      }
      if (jwtSecret.ok && jwtSecret.value === undefined && jwtPreviousSecret.ok && jwtPreviousSecret.value) {
        read.report({
          path: ['JWT_SECRET_PREVIOUS'],
          message:
            'JWT_SECRET_PREVIOUS is set without JWT_SECRET: the previous secret only adds to the current one',
        });
      }

      const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
      const clusters = resolveDiscovererTokens(
        yaml?.config?.clusters ?? [],
        env,
        dirname(configPath),
        readFile,
      );
      const upstreamTls = readUpstreamTls(clusters.resolved, dirname(configPath), readFile);
      const downstreamTls = readDownstreamTls(env, options.cwd ?? process.cwd(), readFile);
      for (const problem of [...clusters.problems, ...upstreamTls.problems, ...downstreamTls.problems]) {
        read.report(problem);
      }

      const store = yaml?.config?.sessionStore;
      const storeUrl = env.SESSION_STORE_URL?.trim() || (store?.type === 'redis' ? store.url : undefined);
      if (store?.type === 'redis' && storeUrl === undefined) {
        read.report({
          path: ['SESSION_STORE_URL'],
          message: 'session_store.url is required for session_store.type=redis (or set SESSION_STORE_URL)',
        });
      }
      const workersText = env.GATEWAY_WORKERS?.trim() || '1';
      const workers = workersText === 'auto' ? availableParallelism() : Number(workersText);
      if (store?.type === 'memory' && workers > 1) {
        read.report({
          path: ['GATEWAY_WORKERS'],
          message: `GATEWAY_WORKERS=${workersText} needs session_store.type=redis: with the memory store each process keeps its own bindings and would give one instance to two sessions`,
        });
      }
      const yamlConfig = yaml?.config;
      if (yamlConfig === undefined) return undefined;
      return {
        configPath,
        jwtSecret,
        jwtPreviousSecret,
        yamlConfig,
        clusters: upstreamTls.resolved,
        downstreamTls: downstreamTls.tls,
        storeUrl,
        workers,
      };
    },
    build: (variables, extras) => {
      const { jwtSecret, jwtPreviousSecret, yamlConfig, downstreamTls, storeUrl } = extras;
      return {
        port: variables.SERVICE_PORT_GRPC,
        host: variables.LISTEN_HOST,
        configPath: extras.configPath,
        jwtSecret: jwtSecret.ok ? jwtSecret.value : undefined,
        ...(jwtPreviousSecret.ok && jwtPreviousSecret.value !== undefined
          ? { jwtPreviousSecret: jwtPreviousSecret.value }
          : {}),
        retryCount: variables.RETRY_COUNT,
        retryTimeoutMs: variables.RETRY_TIMEOUT_MS,
        ...yamlConfig,
        clusters: extras.clusters,
        ...(downstreamTls === undefined ? {} : { tls: downstreamTls }),
        sessionStore:
          yamlConfig.sessionStore.type === 'redis' && storeUrl !== undefined
            ? { type: 'redis', url: storeUrl }
            : { type: 'memory' },
        workers: extras.workers,
        limits: {
          maxMessageBytes: variables.MAX_MESSAGE_BYTES ?? 0,
          maxReplayBufferBytes: variables.MAX_REPLAY_BUFFER_BYTES,
          shutdownGraceMs: variables.SHUTDOWN_GRACE_MS,
          handshakeTimeoutMs: variables.HANDSHAKE_TIMEOUT_MS,
          idleTimeoutMs: variables.IDLE_TIMEOUT_MS,
        },
      };
    },
  });
}

/**
 * Each dynamic cluster's discoverer token, read from its `discoverer_token_file` (relative to the
 * YAML file) or `discoverer_token_env`, trimmed. A problem names the cluster and the field, never
 * the token.
 */
function resolveDiscovererTokens(
  clusters: readonly ClusterConfig[],
  env: Env,
  configDir: string,
  readFile: (path: string) => string,
): { resolved: ClusterConfig[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const resolved = clusters.map((cluster): ClusterConfig => {
    if (cluster.type !== 'dynamic' || cluster.discovererTokenSource === undefined) return cluster;
    const { file, env: variable } = cluster.discovererTokenSource;
    const where = ['CONFIG_PATH', 'clusters', cluster.id];
    const problem = (field: string, message: string) =>
      problems.push({ path: [...where, field], message: `cluster ${cluster.id}: ${message}` });
    if (file !== undefined && variable !== undefined) {
      problem('discoverer_token_file', 'set discoverer_token_file or discoverer_token_env, not both');
      return cluster;
    }
    let token: string;
    if (file !== undefined) {
      const path = resolve(configDir, file);
      try {
        token = readFile(path).trim();
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        problem('discoverer_token_file', `discoverer_token_file: cannot read ${path}: ${reason}`);
        return cluster;
      }
      if (token === '') problem('discoverer_token_file', `discoverer_token_file: ${path} is empty`);
      return { ...cluster, discovererTokenSource: { file: path }, discovererToken: token };
    }
    token = env[variable as string]?.trim() ?? '';
    if (token === '') problem('discoverer_token_env', `discoverer_token_env: ${variable} is not set`);
    return { ...cluster, discovererToken: token };
  });
  return { resolved, problems };
}

/** A file's text, or the problem naming `where` and why it could not be read. */
function readPem(
  path: string,
  readFile: (path: string) => string,
  where: readonly string[],
  label: string,
  problems: ConfigProblem[],
): string | undefined {
  try {
    const text = readFile(path);
    if (text.trim() === '') {
      problems.push({ path: [...where], message: `${label}: ${path} is empty` });
      return undefined;
    }
    return text;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.push({ path: [...where], message: `${label}: cannot read ${path}: ${reason}` });
    return undefined;
  }
}

/** Why node's TLS refuses these PEM contents (a key that does not match, not PEM at all), if it does. */
function secureContextProblem(options: { cert?: string; key?: string; ca?: string }): string | undefined {
  try {
    createSecureContext(options);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * TLS_CERT_FILE and TLS_KEY_FILE (both or neither, relative to the working directory) and the
 * optional TLS_CLIENT_CA_FILE, read and checked by node's TLS so that a bad file refuses the start
 * (or the reload) instead of every handshake.
 */
function readDownstreamTls(
  env: Env,
  cwd: string,
  readFile: (path: string) => string,
): { tls: DownstreamTlsConfig | undefined; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const certSetting = env.TLS_CERT_FILE?.trim() ?? '';
  const keySetting = env.TLS_KEY_FILE?.trim() ?? '';
  const caSetting = env.TLS_CLIENT_CA_FILE?.trim() ?? '';
  if (certSetting === '' && keySetting === '') {
    if (caSetting !== '') {
      problems.push({
        path: ['TLS_CLIENT_CA_FILE'],
        message: 'TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE (mutual TLS is TLS)',
      });
    }
    return { tls: undefined, problems };
  }
  if (certSetting === '' || keySetting === '') {
    const missing = certSetting === '' ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE';
    const given = certSetting === '' ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE';
    problems.push({ path: [missing], message: `${missing} is required when ${given} is set` });
    return { tls: undefined, problems };
  }
  const certFile = resolve(cwd, certSetting);
  const keyFile = resolve(cwd, keySetting);
  const cert = readPem(certFile, readFile, ['TLS_CERT_FILE'], 'TLS_CERT_FILE', problems);
  const key = readPem(keyFile, readFile, ['TLS_KEY_FILE'], 'TLS_KEY_FILE', problems);
  const clientCaFile = caSetting === '' ? undefined : resolve(cwd, caSetting);
  const clientCa =
    clientCaFile === undefined
      ? undefined
      : readPem(clientCaFile, readFile, ['TLS_CLIENT_CA_FILE'], 'TLS_CLIENT_CA_FILE', problems);
  if (cert === undefined || key === undefined || (clientCaFile !== undefined && clientCa === undefined)) {
    return { tls: undefined, problems };
  }
  const refused = secureContextProblem({ cert, key });
  if (refused !== undefined) {
    problems.push({
      path: ['TLS_KEY_FILE'],
      message: `TLS_CERT_FILE ${certFile} and TLS_KEY_FILE ${keyFile} are not a usable certificate and key: ${refused}`,
    });
  }
  const caRefused = clientCa === undefined ? undefined : secureContextProblem({ ca: clientCa });
  if (caRefused !== undefined) {
    problems.push({
      path: ['TLS_CLIENT_CA_FILE'],
      message: `TLS_CLIENT_CA_FILE ${clientCaFile}: not usable CA certificates: ${caRefused}`,
    });
  }
  if (problems.length > 0) return { tls: undefined, problems };
  return {
    tls: {
      certFile,
      cert,
      keyFile,
      key,
      ...(clientCaFile === undefined || clientCa === undefined ? {} : { clientCaFile, clientCa }),
    },
    problems,
  };
}

/** Each cluster's `tls` files, resolved against the YAML file's directory and read; problems name the field. */
function readUpstreamTls(
  clusters: readonly ClusterConfig[],
  configDir: string,
  readFile: (path: string) => string,
): { resolved: ClusterConfig[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const resolved = clusters.map((cluster): ClusterConfig => {
    if (cluster.type === 'extension' || cluster.tls === undefined) return cluster;
    const where = ['CONFIG_PATH', 'clusters', cluster.id, 'tls'];
    const { caFile, certFile, keyFile, serverName } = cluster.tls;
    const before = problems.length;
    if ((certFile === undefined) !== (keyFile === undefined)) {
      const missing = certFile === undefined ? 'cert_file' : 'key_file';
      const given = certFile === undefined ? 'key_file' : 'cert_file';
      problems.push({
        path: [...where, missing],
        message: `cluster ${cluster.id}: tls.${missing} is required when tls.${given} is set`,
      });
    }
    const read = (file: string | undefined, field: string) => {
      if (file === undefined) return undefined;
      const path = resolve(configDir, file);
      const text = readPem(
        path,
        readFile,
        [...where, field],
        `cluster ${cluster.id}: tls.${field}`,
        problems,
      );
      return { path, text };
    };
    const ca = read(caFile, 'ca_file');
    const cert = read(certFile, 'cert_file');
    const key = read(keyFile, 'key_file');
    if (problems.length === before) {
      const refused = secureContextProblem({
        ...(ca?.text === undefined ? {} : { ca: ca.text }),
        ...(cert?.text === undefined ? {} : { cert: cert.text }),
        ...(key?.text === undefined ? {} : { key: key.text }),
      });
      if (refused !== undefined) {
        problems.push({
          path: [...where],
          message: `cluster ${cluster.id}: tls files are not usable certificates and key: ${refused}`,
        });
      }
    }
    if (problems.length > before) return cluster;
    const tls: UpstreamTlsConfig = {
      ...(ca?.text === undefined ? {} : { caFile: ca.path, ca: ca.text }),
      ...(cert?.text === undefined ? {} : { certFile: cert.path, cert: cert.text }),
      ...(key?.text === undefined ? {} : { keyFile: key.path, key: key.text }),
      ...(serverName === undefined ? {} : { serverName }),
    };
    return { ...cluster, tls };
  });
  return { resolved, problems };
}

/**
 * The YAML part alone (REFERENCE.md 6.2), for tests and fuzzing. `source` only names the text in
 * syntax-error messages (`load config <source>: <reason>`). Throws {@link ConfigError}; the
 * result is deep-frozen.
 */
export function parseGatewayYaml(text: string, source = '<inline>'): GatewayYamlConfig {
  const result = interpretGatewayYaml(text, source);
  if (result.config === undefined) {
    throw ConfigError.of(result.problems);
  }
  return deepFreeze(result.config);
}

/**
 * An empty document (or one holding only comments) is an empty configuration, as in the
 * reference (Go's yaml.Unmarshal leaves the zero value): no routes, `default.action: error`.
 */
function interpretGatewayYaml(
  text: string,
  source: string,
  clusterTypes: Readonly<Record<string, ClusterTypeSchema>> = {},
): GatewayYamlOutcome {
  const loadFailure = (reason: string) => failedYaml(`load config ${source}: ${reason}`);
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
    return loadFailure(`the document must be a mapping, got ${describeValue(value)}`);
  }
  return readGatewayYaml(value ?? new Map(), clusterTypes);
}

function failedYaml(message: string): GatewayYamlOutcome {
  return { config: undefined, problems: [{ path: [], message }], requiresJwt: false };
}

function readConfigFile(path: string, readFile: (path: string) => string): string | { problem: string } {
  try {
    return readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { problem: `load config ${path}: ${firstLine(reason)}` };
  }
}

/** Multi-line parser messages (code excerpts) would break `problems.join('\n')`. */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/:$/, '');
}
