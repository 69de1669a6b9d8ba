import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ExitStatus,
  FakeDiscoverer,
  getFreePort,
  listInstances,
  ManagedProcess,
  type ProcessSpec,
  redisServerBinary,
  referenceGatewayYaml,
} from '@stickygw/testkit';
import { checkGrpcHealth } from './grpc-probe.js';
import { REPO_ROOT, serverEntry } from './repo-paths.js';
import { type ServiceLog, type StackDriver, UnknownPodError, type WorkerExit } from './stack-driver.js';
import { Wait, type WaitStrategy } from './wait-strategies.js';

/** Ports a stack must use; unset ones are picked free. */
export interface FixedPorts {
  readonly gateway?: number;
  readonly discoverer?: number;
  readonly auth?: number;
  readonly redis?: number;
}

/** The unrouted method the gateway readiness probe calls; any route-less name does. */
const UNROUTED_PROBE_METHOD = '/stickygw.harness.Probe/Ready';
const UNIMPLEMENTED = 12;
const PORT_ATTEMPTS = 3;

interface StackSettings {
  readonly workerCount: number;
  readonly jwtSecret: string;
  readonly subscribeIntervalMs: number;
  readonly discovererIntervalMs: number;
  readonly retryCount: number;
  readonly retryTimeoutMs: number;
  readonly ports: FixedPorts;
  readonly gatewayConfigFile: string | undefined;
  readonly logDir: string | undefined;
  readonly logLevel: string;
  readonly startupTimeoutMs: number;
  readonly onProgress: (line: string) => void;
}

/**
 * A whole stack as local processes on loopback (REFERENCE.md 1.3 without Docker): its own
 * redis-server, the discoverer, auth, N workers and the gateway, all from the built `dist/`.
 * Typestate: `ProcessStack` (configure with `with*()`) → `start()` → {@link StartedProcessStack}
 * → `stop()` → {@link StoppedProcessStack}.
 */
export class ProcessStack {
  #settings: StackSettings = {
    workerCount: 3,
    jwtSecret: randomBytes(24).toString('hex'),
    subscribeIntervalMs: 300,
    discovererIntervalMs: 300,
    retryCount: 3,
    retryTimeoutMs: 2_000,
    ports: {},
    gatewayConfigFile: undefined,
    logDir: undefined,
    logLevel: 'info',
    startupTimeoutMs: 30_000,
    onProgress: () => {},
  };

  withWorkers(count: number): this {
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`worker count must be a positive integer, got ${count}`);
    return this.#set({ workerCount: count });
  }

  withJwtSecret(secret: string): this {
    return this.#set({ jwtSecret: secret });
  }

  /** The workers' `SUBSCRIBE_INTERVAL_MS` (the reference's fixed 5 s is too slow for tests). */
  withSubscribeIntervalMs(ms: number): this {
    return this.#set({ subscribeIntervalMs: ms });
  }

  /** `discoverer_interval_ms` of the generated gateway config. */
  withDiscovererIntervalMs(ms: number): this {
    return this.#set({ discovererIntervalMs: ms });
  }

  /** The gateway's `RETRY_COUNT` and `RETRY_TIMEOUT_MS`. */
  withRetry(count: number, timeoutMs: number): this {
    return this.#set({ retryCount: count, retryTimeoutMs: timeoutMs });
  }

  withFixedPorts(ports: FixedPorts): this {
    return this.#set({ ports });
  }

  /**
   * Use this YAML instead of generating one. Its addresses must match the fixed ports; the
   * harness then cannot observe the gateway's discovery and relies on the start order instead.
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
    const started = new Starting(settings, logDir);
    try {
      return await started.run();
    } catch (error) {
      await started.abort();
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`stack start-up failed: ${message}\n(logs: ${logDir})`, { cause: error });
    }
  }
}

interface WorkerSlot {
  readonly podName: string;
  readonly port: number;
  process: ManagedProcess;
}

interface Launched {
  readonly process: ManagedProcess;
  readonly port: number;
}

/** The start-up sequence, kept apart so a failure half-way can stop exactly what was started. */
class Starting {
  readonly processes: ManagedProcess[] = [];
  tap: FakeDiscoverer | undefined;

  constructor(
    private readonly settings: StackSettings,
    private readonly logDir: string,
  ) {}

  private progress(line: string): void {
    this.settings.onProgress(line);
  }

  private spec(name: string, command: string, args: string[], env: Record<string, string>): ProcessSpec {
    return { name, command, args, env, logFile: join(this.logDir, `${name}.log`), cwd: REPO_ROOT };
  }

  /**
   * Starts a process on `fixedPort` or a free port and waits until it is ready. A free port can be
   * taken by someone else between probing and binding; then another port is tried.
   */
  async launch(
    name: string,
    fixedPort: number | undefined,
    spec: (port: number) => ProcessSpec,
    ready: (port: number) => WaitStrategy,
  ): Promise<Launched> {
    for (let attempt = 1; ; attempt++) {
      const port = fixedPort ?? (await getFreePort());
      const process = ManagedProcess.start(spec(port));
      this.processes.push(process);
      try {
        await ready(port).withStartupTimeout(this.settings.startupTimeoutMs).waitUntilReady(process);
        return { process, port };
      } catch (error) {
        await process.kill();
        const portTaken = /EADDRINUSE|address already in use/i.test(process.output());
        if (fixedPort === undefined && portTaken && attempt < PORT_ATTEMPTS) {
          this.progress(`  ${name}: port ${port} was taken, trying another`);
          continue;
        }
        if (portTaken) throw new Error(`${name}: port ${port} is already in use`, { cause: error });
        throw error;
      }
    }
  }

  async run(): Promise<StartedProcessStack> {
    const { settings } = this;
    const node = process.execPath;
    const logLevel = settings.logLevel;

    this.progress('starting redis-server');
    const redis = await this.launch(
      'redis',
      settings.ports.redis,
      (port) =>
        this.spec(
          'redis',
          redisServerBinary(),
          ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
          {},
        ),
      (port) => Wait.forRedisPing(port),
    );
    const redisUrl = `redis://127.0.0.1:${redis.port}`;
    this.progress(`  redis       ${redisUrl}`);

    this.progress('starting discoverer');
    const discoverer = await this.launch(
      'discoverer',
      settings.ports.discoverer,
      (port) =>
        this.spec('discoverer', node, [serverEntry('discoverer')], {
          SERVICE_PORT_HTTP: String(port),
          REDIS_ADDR: redisUrl,
          LISTEN_HOST: '127.0.0.1',
          LOG_LEVEL: logLevel,
        }),
      (port) => Wait.forHttp(`http://127.0.0.1:${port}/healthz`),
    );
    const discovererUrl = `http://127.0.0.1:${discoverer.port}`;
    this.progress(`  discoverer  ${discovererUrl}`);

    const workerSpec = (podName: string, port: number) =>
      this.spec(podName, node, [serverEntry('service')], {
        SERVICE_PORT_GRPC: String(port),
        LISTEN_HOST: '127.0.0.1',
        MY_DISCOVERER_URL: discovererUrl,
        INSTANCE_ID: podName,
        DISCOVERABLE_HOST: '127.0.0.1',
        REGISTRATION_TTL_MS: '300000',
        REGISTRATION_HEARTBEAT_INTERVAL_MS: '120000',
        JWT_SECRET: settings.jwtSecret,
        SUBSCRIBE_INTERVAL_MS: String(settings.subscribeIntervalMs),
        LOG_LEVEL: logLevel,
      });
    const workerReady = (podName: string, port: number) =>
      Wait.forCondition(`${podName} serving on 127.0.0.1:${port} and listed by the discoverer`, async () => {
        const health = await checkGrpcHealth(`127.0.0.1:${port}`, 1_000);
        if (health !== 'SERVING') return `health ${health}`;
        const listed = await listInstances(discovererUrl);
        const entry = listed.find((instance) => instance.instance_id === podName);
        if (entry === undefined)
          return `not listed yet (listed: ${listed.map((i) => i.instance_id).join(', ') || 'none'})`;
        return entry.port === port ? true : `listed with port ${entry.port}`;
      });

    this.progress(`starting auth and ${settings.workerCount} workers`);
    const podNames = Array.from({ length: settings.workerCount }, (_, i) => `worker-${i + 1}`);
    const [auth, ...workers] = await Promise.all([
      this.launch(
        'auth',
        settings.ports.auth,
        (port) =>
          this.spec('auth', node, [serverEntry('auth')], {
            SERVICE_PORT_GRPC: String(port),
            LISTEN_HOST: '127.0.0.1',
            REDIS_ADDR: redisUrl,
            JWT_SECRET: settings.jwtSecret,
            TOKEN_EXPIRATION: '1h',
            AUTH_SEED_TEST_USER: 'true',
            LOG_LEVEL: logLevel,
          }),
        (port) => Wait.forGrpcHealth(`127.0.0.1:${port}`),
      ),
      ...podNames.map((podName) =>
        this.launch(
          podName,
          undefined,
          (port) => workerSpec(podName, port),
          (port) => workerReady(podName, port),
        ),
      ),
    ]);
    if (auth === undefined) throw new Error('auth did not start');
    const authAddress = `127.0.0.1:${auth.port}`;
    this.progress(`  auth        ${authAddress}`);
    const slots: WorkerSlot[] = workers.map((launched, i) => ({
      podName: podNames[i] as string,
      port: launched.port,
      process: launched.process,
    }));
    for (const slot of slots) this.progress(`  ${slot.podName.padEnd(11)} 127.0.0.1:${slot.port}`);

    // Started after every worker is listed, so its first discovery already returns all of them.
    this.progress('starting gateway');
    let configPath = settings.gatewayConfigFile;
    if (configPath === undefined) {
      this.tap = await FakeDiscoverer.relay(() => discovererUrl);
      configPath = join(this.logDir, 'gateway.yaml');
      writeFileSync(
        configPath,
        referenceGatewayYaml({
          authAddress,
          discovererUrl: this.tap.url,
          discovererIntervalMs: settings.discovererIntervalMs,
        }).toString(),
      );
    }
    const gatewayConfig = configPath;
    const gateway = await this.launch(
      'gateway',
      settings.ports.gateway,
      (port) =>
        this.spec('gateway', node, [serverEntry('gateway')], {
          SERVICE_PORT_GRPC: String(port),
          CONFIG_PATH: gatewayConfig,
          JWT_SECRET: settings.jwtSecret,
          RETRY_COUNT: String(settings.retryCount),
          RETRY_TIMEOUT_MS: String(settings.retryTimeoutMs),
          LISTEN_HOST: '127.0.0.1',
          LOG_LEVEL: logLevel,
        }),
      (port) => Wait.forGrpcStatus(`127.0.0.1:${port}`, UNROUTED_PROBE_METHOD, UNIMPLEMENTED),
    );
    const gatewayAddress = `127.0.0.1:${gateway.port}`;
    const stack = new StartedProcessStack({
      settings,
      logDir: this.logDir,
      redis: redis.process,
      redisUrl,
      discoverer: discoverer.process,
      discovererUrl,
      auth: auth.process,
      authAddress,
      workers: slots,
      workerSpec,
      workerReady,
      gateway: gateway.process,
      gatewayAddress,
      gatewayConfigPath: gatewayConfig,
      tap: this.tap,
    });
    await stack.waitForGatewayToSee(podNames, 0);
    const seen = this.tap ? 'has discovered' : 'started after the discoverer listed';
    this.progress(`  gateway     ${gatewayAddress} (${seen} ${podNames.join(', ')})`);
    return stack;
  }

  async abort(): Promise<void> {
    await Promise.all(this.processes.map((process) => process.kill()));
    await this.tap?.stop();
  }
}

interface StartedParts {
  readonly settings: StackSettings;
  readonly logDir: string;
  readonly redis: ManagedProcess;
  readonly redisUrl: string;
  readonly discoverer: ManagedProcess;
  readonly discovererUrl: string;
  readonly auth: ManagedProcess;
  readonly authAddress: string;
  readonly workers: WorkerSlot[];
  readonly workerSpec: (podName: string, port: number) => ProcessSpec;
  readonly workerReady: (podName: string, port: number) => WaitStrategy;
  readonly gateway: ManagedProcess;
  readonly gatewayAddress: string;
  readonly gatewayConfigPath: string;
  readonly tap: FakeDiscoverer | undefined;
}

/** How long each component may take to stop gracefully before it is killed. */
const STOP_GRACE_MS = 3_000;

/** A running local stack and its fault operations. */
export class StartedProcessStack implements StackDriver, AsyncDisposable {
  readonly kind = 'process';
  #stopped: Promise<StoppedProcessStack> | undefined;

  constructor(private readonly parts: StartedParts) {}

  get gatewayAddress(): string {
    return this.parts.gatewayAddress;
  }

  get authAddress(): string {
    return this.parts.authAddress;
  }

  get discovererUrl(): string {
    return this.parts.discovererUrl;
  }

  get redisUrl(): string {
    return this.parts.redisUrl;
  }

  get jwtSecret(): string {
    return this.parts.settings.jwtSecret;
  }

  get logDir(): string {
    return this.parts.logDir;
  }

  get gatewayConfigPath(): string {
    return this.parts.gatewayConfigPath;
  }

  /** Every process of the stack, for state files and diagnostics. */
  processes(): ManagedProcess[] {
    const { redis, discoverer, auth, workers, gateway } = this.parts;
    return [redis, discoverer, auth, ...workers.map((slot) => slot.process), gateway];
  }

  /** Environment a worker is started with (for a driver that restarts it from another process). */
  workerSpec(pod: string): ProcessSpec {
    const slot = this.#slot(pod);
    return this.parts.workerSpec(slot.podName, slot.port);
  }

  async workerPods(): Promise<string[]> {
    return this.parts.workers.map((slot) => slot.podName);
  }

  workerPort(pod: string): number {
    return this.#slot(pod).port;
  }

  #slot(pod: string): WorkerSlot {
    const slot = this.parts.workers.find((candidate) => candidate.podName === pod);
    if (slot === undefined) {
      throw new UnknownPodError(
        pod,
        this.parts.workers.map((w) => w.podName),
      );
    }
    return slot;
  }

  async killWorker(pod: string): Promise<void> {
    const slot = this.#slot(pod);
    if (!slot.process.running) throw new Error(`cannot kill ${pod}: it is not running`);
    await slot.process.kill();
  }

  async stopAllWorkers(): Promise<void> {
    await Promise.all(this.parts.workers.map((slot) => slot.process.stop(STOP_GRACE_MS)));
  }

  async startWorker(pod: string): Promise<void> {
    const slot = this.#slot(pod);
    if (slot.process.running) throw new Error(`cannot start ${pod}: it is already running`);
    const since = Date.now();
    // The dead worker's entry outlives it (workers never deregister); removing it first lets
    // "listed again" prove that the new process registered itself.
    await fetch(`${this.parts.discovererUrl}/v1/unregister/${encodeURIComponent(pod)}`, {
      method: 'POST',
      signal: AbortSignal.timeout(2_000),
    });
    slot.process = ManagedProcess.start(this.parts.workerSpec(slot.podName, slot.port));
    await this.parts
      .workerReady(slot.podName, slot.port)
      .withStartupTimeout(this.parts.settings.startupTimeoutMs)
      .waitUntilReady(slot.process);
    await this.waitForGatewayToSee([pod], since);
  }

  async startAllWorkers(): Promise<void> {
    const stopped = this.parts.workers.filter((slot) => !slot.process.running);
    await Promise.all(stopped.map((slot) => this.startWorker(slot.podName)));
  }

  async waitForWorkerExit(pod: string, timeoutMs: number): Promise<WorkerExit> {
    const slot = this.#slot(pod);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${pod} did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const status: ExitStatus = await Promise.race([slot.process.exited, timeout]);
      return status;
    } finally {
      clearTimeout(timer);
    }
  }

  async workerLog(pod: string): Promise<string> {
    return this.#slot(pod).process.output();
  }

  async logs(): Promise<ServiceLog[]> {
    return this.processes().map((process) => ({ name: process.name, text: process.output() }));
  }

  /**
   * Resolves once the gateway has applied a discovery result listing every pod in `pods` fetched
   * after `since`. With a fixed config file (no tap) the start order guarantees it instead: the
   * gateway refreshes once before it serves (REFERENCE.md 6.8) and is started after the workers.
   */
  async waitForGatewayToSee(pods: readonly string[], since: number): Promise<void> {
    const tap = this.parts.tap;
    if (tap === undefined) return;
    await Wait.forCondition(`the gateway to discover ${pods.join(', ')}`, async () =>
      tap.hasApplied(since, (instances) => pods.every((pod) => instances.some((i) => i.instance_id === pod)))
        ? true
        : tap.describeLast(),
    )
      .withStartupTimeout(Math.max(10_000, this.parts.settings.discovererIntervalMs * 10))
      .waitUntilReady(this.parts.gateway);
  }

  /** Stops everything (gateway first, so no call reaches a half-stopped stack). Idempotent. */
  stop(): Promise<StoppedProcessStack> {
    this.#stopped ??= (async () => {
      const { gateway, workers, auth, discoverer, redis, tap } = this.parts;
      await gateway.stop(STOP_GRACE_MS);
      await Promise.all([
        ...workers.map((slot) => slot.process.stop(STOP_GRACE_MS)),
        auth.stop(STOP_GRACE_MS),
      ]);
      await discoverer.stop(STOP_GRACE_MS);
      await tap?.stop();
      await redis.stop(STOP_GRACE_MS);
      return new StoppedProcessStack(this.parts.logDir);
    })();
    return this.#stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

export class StoppedProcessStack {
  constructor(readonly logDir: string) {}

  removeLogs(): void {
    rmSync(this.logDir, { recursive: true, force: true });
  }
}
