import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamicClusterExtras } from '@stickygw/testkit';
import { serverEntry } from './repo-paths.js';
import { generateStackSecrets, type StackSecrets } from './stack-secrets.js';
import { StartedProcessStack } from './started-process-stack.js';

/** Ports a stack must use; unset ones are picked free. */
interface FixedPorts {
  /** The first gateway's; further replicas take the ports after it. */
  readonly gateway?: number;
  readonly discoverer?: number;
  readonly auth?: number;
  readonly redis?: number;
  /** The first gateway's admin listener (ADMIN_PORT), the next replicas' after it; unset: admin off. */
  readonly admin?: number;
}

/**
 * Extra instances of another service behind a discoverer of their own (Redis db 1) and a route of
 * their own, with the same auth and exclusive sticky balancing as the worker route. They register
 * like workers but need not serve gRPC health.
 */
interface ProbeCluster {
  readonly count: number;
  /** The compiled entry point each instance runs. */
  readonly entry: string;
  /** The gateway route prefix of the cluster, e.g. `/pkg.Service/`. */
  readonly routePrefix: string;
}

/** Everything a stack is configured with; {@link ProcessStack} holds the defaults. */
export interface StackSettings {
  readonly workerCount: number;
  readonly gatewayCount: number;
  readonly probes: ProbeCluster | undefined;
  readonly jwtSecret: string;
  /** Secret rotation: the workers and gateways also accept tokens signed with it. */
  readonly jwtPreviousSecret: string | undefined;
  /** The services read the JWT secrets from files (`JWT_SECRET_FILE`...), not the environment. */
  readonly jwtSecretFiles: boolean;
  readonly subscribeIntervalMs: number;
  readonly discovererIntervalMs: number;
  readonly retryCount: number;
  readonly retryTimeoutMs: number;
  readonly registrationTtlMs: number;
  readonly heartbeatMs: number;
  readonly gatewayEnv: Readonly<Record<string, string>>;
  /** `health_check` / `outlier_detection` of the generated config's worker cluster. */
  readonly workerCluster: DynamicClusterExtras;
  readonly ports: FixedPorts;
  readonly gatewayConfigFile: string | undefined;
  readonly logDir: string | undefined;
  readonly logLevel: string;
  readonly startupTimeoutMs: number;
  readonly onProgress: (line: string) => void;
  /** A secured stack (README "Security"): discoverer token, Redis ACL users; `undefined`: open. */
  readonly secrets: StackSecrets | undefined;
}

/**
 * A whole stack as local processes on loopback (REFERENCE.md 1.3 without Docker): its own
 * redis-server, the discoverer, auth, N workers and one or more gateways, all from the built `dist/`, plus
 * optionally a {@link ProbeCluster}. The one stack the scenarios, the fault suites, the soak and
 * `make up` run on. Typestate: `ProcessStack` (configure with `with*()`) → `start()` →
 * {@link StartedProcessStack} → `stop()` → {@link StoppedProcessStack}.
 */
export class ProcessStack {
  #settings: StackSettings = {
    workerCount: 3,
    gatewayCount: 1,
    probes: undefined,
    jwtSecret: randomBytes(24).toString('hex'),
    jwtPreviousSecret: undefined,
    jwtSecretFiles: false,
    subscribeIntervalMs: 300,
    discovererIntervalMs: 300,
    retryCount: 3,
    retryTimeoutMs: 2_000,
    registrationTtlMs: 300_000,
    heartbeatMs: 120_000,
    gatewayEnv: {},
    workerCluster: {},
    ports: {},
    gatewayConfigFile: undefined,
    logDir: undefined,
    logLevel: 'info',
    startupTimeoutMs: 30_000,
    onProgress: () => {},
    secrets: undefined,
  };

  withWorkers(count: number): this {
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`worker count must be a positive integer, got ${count}`);
    return this.#set({ workerCount: count });
  }

  /**
   * Runs `count` gateway replicas (`gateway`, `gateway-2`, ...) over the same workers. More than one
   * share their sessions through the stack's Redis (`session_store` of type redis).
   */
  withGateways(count: number): this {
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`gateway count must be a positive integer, got ${count}`);
    return this.#set({ gatewayCount: count });
  }

  /** Adds a probe cluster (`probe-1`…); a count of 0 adds none. */
  withProbeCluster(probes: ProbeCluster): this {
    return this.#set({ probes: probes.count > 0 ? probes : undefined });
  }

  withJwtSecret(secret: string): this {
    return this.#set({ jwtSecret: secret });
  }

  /** A rotation in progress: auth signs with the current secret, tokens of `secret` still pass. */
  withJwtPreviousSecret(secret: string): this {
    return this.#set({ jwtPreviousSecret: secret });
  }

  /** Hands the JWT secrets to the services as files (`JWT_SECRET_FILE`, mode 0600), as Docker secrets do. */
  withJwtSecretFiles(): this {
    return this.#set({ jwtSecretFiles: true });
  }

  /** The workers' `SUBSCRIBE_INTERVAL_MS` (the reference's fixed 5 s is too slow for tests). */
  withSubscribeIntervalMs(ms: number): this {
    return this.#set({ subscribeIntervalMs: ms });
  }

  /** `health_check` and `outlier_detection` of the generated config's `my_service` cluster. */
  withWorkerCluster(extras: DynamicClusterExtras): this {
    return this.#set({ workerCluster: extras });
  }

  /** `discoverer_interval_ms` of the generated gateway config. */
  withDiscovererIntervalMs(ms: number): this {
    return this.#set({ discovererIntervalMs: ms });
  }

  /** The gateway's `RETRY_COUNT` and `RETRY_TIMEOUT_MS`. */
  withRetry(count: number, timeoutMs: number): this {
    return this.#set({ retryCount: count, retryTimeoutMs: timeoutMs });
  }

  /** The instances' `REGISTRATION_TTL_MS` and `REGISTRATION_HEARTBEAT_INTERVAL_MS`. */
  withRegistration(ttlMs: number, heartbeatMs: number): this {
    return this.#set({ registrationTtlMs: ttlMs, heartbeatMs });
  }

  /** Extra gateway environment (MAX_MESSAGE_BYTES, SHUTDOWN_GRACE_MS, ACCESS_LOG, ...). */
  withGatewayEnv(env: Readonly<Record<string, string>>): this {
    return this.#set({ gatewayEnv: env });
  }

  withFixedPorts(ports: FixedPorts): this {
    return this.#set({ ports });
  }

  /**
   * Use this YAML instead of generating one. Its addresses must match the fixed ports; the
   * harness then cannot observe the gateway's discovery and relies on the start order instead.
   * Several gateways get a copy of it with the shared session store added.
   */
  withGatewayConfigFile(path: string): this {
    return this.#set({ gatewayConfigFile: path });
  }

  /** Where the log files go (default: a fresh temporary directory). */
  withLogDir(dir: string): this {
    return this.#set({ logDir: dir });
  }

  withLogLevel(level: string): this {
    return this.#set({ logLevel: level });
  }

  /** Per-component readiness deadline. */
  withStartupTimeout(ms: number): this {
    return this.#set({ startupTimeoutMs: ms });
  }

  /** Called with one line per start-up step (the CLI prints them). */
  withProgress(onProgress: (line: string) => void): this {
    return this.#set({ onProgress });
  }

  /**
   * Runs the stack with every door of README "Security" closed: the discoverer wants
   * `DISCOVERER_TOKEN` (from a file) to register and unregister, workers and gateways send it, and
   * Redis has a `default` password and one ACL user per service; the JWT secret goes to the
   * services as a file ({@link withJwtSecretFiles}). `secrets` default to fresh ones.
   */
  secured(secrets: StackSecrets = generateStackSecrets()): this {
    return this.#set({ secrets, jwtSecretFiles: true });
  }

  /** `secured()` when the environment says `ITEST_SECURED=1` (the CLI and the scenario suites). */
  securedIfRequested(env: NodeJS.ProcessEnv = process.env): this {
    return env.ITEST_SECURED === '1' || env.ITEST_SECURED === 'true' ? this.secured() : this;
  }

  #set(patch: Partial<StackSettings>): this {
    this.#settings = { ...this.#settings, ...patch };
    return this;
  }

  async start(): Promise<StartedProcessStack> {
    const settings = this.#settings;
    for (const workspace of ['discoverer', 'auth', 'service', 'gateway'] as const) {
      if (!existsSync(serverEntry(workspace))) {
        throw new Error(
          `${workspace}/dist/main.js is missing: build first (make build, or npx tsc -b tsconfig.build.json)`,
        );
      }
    }
    const logDir = settings.logDir ?? mkdtempSync(join(tmpdir(), 'stickygw-stack-'));
    mkdirSync(logDir, { recursive: true });
    const stack = new StartedProcessStack(settings, logDir);
    try {
      await stack.startAll();
      return stack;
    } catch (error) {
      const logs = stack.describeLogs();
      await stack.stop();
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`stack start-up failed: ${message}\n${logs}\n(logs: ${logDir})`, { cause: error });
    }
  }
}
