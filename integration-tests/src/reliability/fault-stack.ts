import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  tail,
} from '@stickygw/testkit';
import { checkGrpcHealth } from '../harness/grpc-probe.js';
import { REPO_ROOT, serverEntry } from '../harness/repo-paths.js';
import { Wait, type WaitStrategy } from '../harness/wait-strategies.js';
import { PROBE_SERVICE } from './probe-service.js';

export interface FaultStackOptions {
  /** Worker processes (`worker-1`…), default 3. */
  readonly workers?: number;
  /** Probe processes (`probe-1`…) behind their own discoverer and route; default 0 (no probe cluster). */
  readonly probes?: number;
  readonly subscribeIntervalMs?: number;
  readonly discovererIntervalMs?: number;
  readonly retryCount?: number;
  readonly retryTimeoutMs?: number;
  /** Workers' and probes' heartbeat; short, so a Redis restart is healed quickly. */
  readonly heartbeatMs?: number;
  /** Extra gateway environment (MAX_MESSAGE_BYTES, SHUTDOWN_GRACE_MS, ACCESS_LOG, ...). */
  readonly gatewayEnv?: Readonly<Record<string, string>>;
  readonly logLevel?: string;
  /** Per-component readiness deadline. */
  readonly startupTimeoutMs?: number;
}

const STOP_GRACE_MS = 3_000;
const PORT_ATTEMPTS = 3;
/** The compiled probe entry, also when the suite runs from `src/` (build first, as for every server). */
const PROBE_MAIN = join(REPO_ROOT, 'integration-tests', 'dist', 'reliability', 'probe-main.js');
/** Any method no route matches: the gateway answers it itself with UNIMPLEMENTED. */
export const UNROUTED_METHOD = '/stickygw.reliability.Nothing/Here';

/**
 * One restartable process of the stack. `port` is fixed once chosen (a restart reuses it unless told
 * otherwise), so dependants configured with the address keep working across restarts.
 */
class Component {
  process: ManagedProcess | undefined;
  port = 0;

  constructor(
    readonly name: string,
    private readonly spec: (port: number) => ProcessSpec,
    private readonly ready: (port: number) => WaitStrategy,
    private readonly startupTimeoutMs: number,
  ) {}

  get running(): boolean {
    return this.process?.running ?? false;
  }

  /** Starts on `port` (default: the previous port, or a free one the first time) and waits until ready. */
  async start(port?: number): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const fixed = port ?? (this.port === 0 ? undefined : this.port);
    for (let attempt = 1; ; attempt++) {
      const chosen = fixed ?? (await getFreePort());
      this.port = chosen;
      const started = ManagedProcess.start(this.spec(chosen));
      this.process = started;
      try {
        await this.ready(chosen).withStartupTimeout(this.startupTimeoutMs).waitUntilReady(started);
        return;
      } catch (error) {
        await started.kill();
        const taken = /EADDRINUSE|Address already in use/.test(started.output());
        if (fixed === undefined && taken && attempt < PORT_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  async kill(): Promise<ExitStatus | undefined> {
    return this.process?.kill();
  }

  async stop(graceMs = STOP_GRACE_MS): Promise<ExitStatus | undefined> {
    return this.process?.stop(graceMs);
  }

  signal(signal: NodeJS.Signals): void {
    this.process?.signal(signal);
  }

  log(): string {
    return this.process?.output() ?? '';
  }
}

/**
 * A whole stack as local processes for fault injection (issue 6): redis-server, the discoverer, auth,
 * N workers and the gateway, plus optionally M probe instances (probe-service.ts) registered at a second
 * discoverer (Redis db 1) and routed by `/stickygw.probe.Probe/` with the same auth and exclusive
 * sticky balancing as the worker route. Unlike the scenario harness, every component can be killed,
 * stopped and started again on the same port, workers can be restarted on a new port or added, and
 * the gateway can be signalled and measured. Both discoverers sit behind a {@link FakeDiscoverer}
 * so the stack can tell what the gateway was told and did without calling through it.
 */
export class FaultStack {
  readonly jwtSecret = randomBytes(24).toString('hex');
  readonly logDir = mkdtempSync(join(tmpdir(), 'stickygw-faults-'));
  readonly redis: Component;
  readonly discoverer: Component;
  readonly probeDiscoverer: Component;
  readonly auth: Component;
  readonly gateway: Component;
  readonly #workers = new Map<string, Component>();
  readonly #probes = new Map<string, Component>();
  #workerTap: FakeDiscoverer | undefined;
  #probeTap: FakeDiscoverer | undefined;
  readonly #options: Required<FaultStackOptions>;

  private constructor(options: FaultStackOptions) {
    this.#options = {
      workers: 3,
      probes: 0,
      subscribeIntervalMs: 100,
      discovererIntervalMs: 200,
      retryCount: 3,
      retryTimeoutMs: 2_000,
      heartbeatMs: 1_000,
      gatewayEnv: {},
      logLevel: 'warn',
      startupTimeoutMs: 30_000,
      ...options,
    };
    const o = this.#options;
    const node = process.execPath;
    this.redis = this.#component(
      'redis',
      (port) =>
        this.#spec(
          'redis',
          redisServerBinary(),
          ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
          {},
        ),
      (port) => Wait.forRedisPing(port),
    );
    const discoverer = (name: string, db: number) =>
      this.#component(
        name,
        (port) =>
          this.#spec(name, node, [serverEntry('discoverer')], {
            SERVICE_PORT_HTTP: String(port),
            REDIS_ADDR: `${this.redisUrl}/${db}`,
            LISTEN_HOST: '127.0.0.1',
            LOG_LEVEL: o.logLevel,
          }),
        (port) => Wait.forHttp(`http://127.0.0.1:${port}/healthz`),
      );
    this.discoverer = discoverer('discoverer', 0);
    this.probeDiscoverer = discoverer('probe-discoverer', 1);
    this.auth = this.#component(
      'auth',
      (port) =>
        this.#spec('auth', node, [serverEntry('auth')], {
          SERVICE_PORT_GRPC: String(port),
          LISTEN_HOST: '127.0.0.1',
          REDIS_ADDR: this.redisUrl,
          JWT_SECRET: this.jwtSecret,
          TOKEN_EXPIRATION: '1h',
          AUTH_SEED_TEST_USER: 'true',
          LOG_LEVEL: o.logLevel,
        }),
      (port) => Wait.forGrpcHealth(`127.0.0.1:${port}`),
    );
    this.gateway = this.#component(
      'gateway',
      (port) =>
        this.#spec('gateway', node, [serverEntry('gateway')], {
          SERVICE_PORT_GRPC: String(port),
          CONFIG_PATH: join(this.logDir, 'gateway.yaml'),
          JWT_SECRET: this.jwtSecret,
          RETRY_COUNT: String(o.retryCount),
          RETRY_TIMEOUT_MS: String(o.retryTimeoutMs),
          LISTEN_HOST: '127.0.0.1',
          LOG_LEVEL: o.logLevel,
          ...o.gatewayEnv,
        }),
      (port) => Wait.forGrpcStatus(`127.0.0.1:${port}`, UNROUTED_METHOD, 12),
    );
  }

  static async start(options: FaultStackOptions = {}): Promise<FaultStack> {
    const stack = new FaultStack(options);
    try {
      await stack.#startAll();
      return stack;
    } catch (error) {
      const logs = stack.describeLogs();
      await stack.stop();
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`fault stack start-up failed: ${message}\n${logs}`, { cause: error });
    }
  }

  async #startAll(): Promise<void> {
    const o = this.#options;
    await this.redis.start();
    await Promise.all([this.discoverer.start(), o.probes > 0 ? this.probeDiscoverer.start() : undefined]);
    const workers = Array.from({ length: o.workers }, (_, i) => this.#newWorker(`worker-${i + 1}`));
    const probes = Array.from({ length: o.probes }, (_, i) => this.#newProbe(`probe-${i + 1}`));
    await Promise.all([this.auth.start(), ...[...workers, ...probes].map((c) => c.start())]);
    this.#workerTap = await FakeDiscoverer.relay(() => this.discovererUrl);
    if (o.probes > 0) this.#probeTap = await FakeDiscoverer.relay(() => this.probeDiscovererUrl);
    writeFileSync(join(this.logDir, 'gateway.yaml'), this.#gatewayYaml());
    await this.gateway.start();
    await this.waitForGatewayToSee(this.workerPods(), 0);
    if (o.probes > 0) await this.waitForGatewayToSee(this.probePods(), 0, 'probes');
  }

  #gatewayYaml(): string {
    const o = this.#options;
    const yaml = referenceGatewayYaml({
      authAddress: this.authAddress,
      discovererUrl: this.recorder('workers').url,
      discovererIntervalMs: o.discovererIntervalMs,
    });
    if (this.#probeTap !== undefined) {
      yaml
        .route(`/${PROBE_SERVICE}/`, 'probe', { authorization: 'required', stickyHeader: 'session-id' })
        .dynamicCluster('probe', this.#probeTap.url, o.discovererIntervalMs);
    }
    return yaml.toString();
  }

  #spec(name: string, command: string, args: string[], env: Record<string, string>): ProcessSpec {
    return { name, command, args, env, logFile: join(this.logDir, `${name}.log`), cwd: REPO_ROOT };
  }

  #component(
    name: string,
    spec: (port: number) => ProcessSpec,
    ready: (port: number) => WaitStrategy,
  ): Component {
    return new Component(name, spec, ready, this.#options.startupTimeoutMs);
  }

  /** A worker or probe: healthy on its port and listed with that port by its discoverer. */
  #instance(
    name: string,
    entry: string,
    discovererUrl: () => string,
    env: Record<string, string>,
    hasHealthService: boolean,
  ): Component {
    const o = this.#options;
    return this.#component(
      name,
      (port) =>
        this.#spec(name, process.execPath, [entry], {
          SERVICE_PORT_GRPC: String(port),
          LISTEN_HOST: '127.0.0.1',
          MY_DISCOVERER_URL: discovererUrl(),
          INSTANCE_ID: name,
          DISCOVERABLE_HOST: '127.0.0.1',
          REGISTRATION_TTL_MS: '60000',
          REGISTRATION_HEARTBEAT_INTERVAL_MS: String(o.heartbeatMs),
          LOG_LEVEL: o.logLevel,
          ...env,
        }),
      (port) =>
        Wait.forCondition(`${name} serving on 127.0.0.1:${port} and registered`, async () => {
          if (hasHealthService) {
            const health = await checkGrpcHealth(`127.0.0.1:${port}`, 1_000);
            if (health !== 'SERVING') return `health ${health}`;
          }
          const entry = (await listInstances(discovererUrl())).find((i) => i.instance_id === name);
          if (entry === undefined) return 'not registered yet';
          return entry.port === port ? true : `registered with port ${entry.port}`;
        }),
    );
  }

  #newWorker(pod: string): Component {
    const worker = this.#instance(
      pod,
      serverEntry('service'),
      () => this.discovererUrl,
      {
        JWT_SECRET: this.jwtSecret,
        SUBSCRIBE_INTERVAL_MS: String(this.#options.subscribeIntervalMs),
      },
      true,
    );
    this.#workers.set(pod, worker);
    return worker;
  }

  #newProbe(pod: string): Component {
    const probe = this.#instance(pod, PROBE_MAIN, () => this.probeDiscovererUrl, {}, false);
    this.#probes.set(pod, probe);
    return probe;
  }

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.redis.port}`;
  }
  get discovererUrl(): string {
    return `http://127.0.0.1:${this.discoverer.port}`;
  }
  get probeDiscovererUrl(): string {
    return `http://127.0.0.1:${this.probeDiscoverer.port}`;
  }
  get authAddress(): string {
    return `127.0.0.1:${this.auth.port}`;
  }
  get gatewayAddress(): string {
    return `127.0.0.1:${this.gateway.port}`;
  }
  get gatewayPid(): number {
    const pid = this.gateway.process?.pid;
    if (pid === undefined) throw new Error('the gateway has not been started');
    return pid;
  }

  workerPods(): string[] {
    return [...this.#workers.keys()];
  }
  probePods(): string[] {
    return [...this.#probes.keys()];
  }
  /** A worker or probe by pod name. */
  instance(pod: string): Component {
    const found = this.#workers.get(pod) ?? this.#probes.get(pod);
    if (found === undefined) throw new Error(`no instance named ${pod}`);
    return found;
  }
  running(pod: string): boolean {
    return this.instance(pod).running;
  }

  /** SIGKILL (`docker kill`), resolved once the process is reaped. */
  async kill(pod: string): Promise<void> {
    await this.instance(pod).kill();
  }

  /**
   * Starts a killed or stopped instance again with the same instance id, on its old port or (with
   * `newPort`) a fresh one, and waits until the gateway has fetched a list naming it.
   */
  async restart(pod: string, options: { newPort?: boolean } = {}): Promise<void> {
    const since = Date.now();
    const instance = this.instance(pod);
    await instance.start(options.newPort === true ? await getFreePort() : undefined);
    await this.waitForGatewayToSee([pod], since, this.#probes.has(pod) ? 'probes' : 'workers');
  }

  /** Starts one more worker (or probe) and waits until the gateway has seen it. */
  async add(kind: 'workers' | 'probes' = 'workers'): Promise<string> {
    const pods = kind === 'workers' ? this.#workers : this.#probes;
    const pod = `${kind === 'workers' ? 'worker' : 'probe'}-${pods.size + 1}`;
    const instance = kind === 'workers' ? this.#newWorker(pod) : this.#newProbe(pod);
    const since = Date.now();
    await instance.start();
    await this.waitForGatewayToSee([pod], since, kind);
    return pod;
  }

  /** What the gateway was told and did at the workers' (or probes') discoverer. */
  recorder(kind: 'workers' | 'probes' = 'workers'): FakeDiscoverer {
    const recorder = kind === 'workers' ? this.#workerTap : this.#probeTap;
    if (recorder === undefined) throw new Error(`no ${kind} cluster in this stack`);
    return recorder;
  }

  /** Resolves once the gateway has applied a list, fetched after `since`, naming every pod at its current port. */
  async waitForGatewayToSee(
    pods: readonly string[],
    since: number,
    kind: 'workers' | 'probes' = 'workers',
  ): Promise<void> {
    const recorder = this.recorder(kind);
    const listed = (instances: readonly { instance_id: string; port: number }[]) =>
      pods.every((pod) => instances.some((i) => i.instance_id === pod && i.port === this.instance(pod).port));
    await Wait.forCondition(`the gateway to discover ${pods.join(', ')}`, async () =>
      recorder.hasApplied(since, listed) ? true : recorder.describeLast(),
    )
      .withStartupTimeout(15_000)
      .waitUntilReady(this.gateway.process);
  }

  /** Resolves once the gateway has applied a list, fetched after `since`, without `pod`. */
  async waitForGatewayToForget(
    pod: string,
    since: number,
    kind: 'workers' | 'probes' = 'workers',
  ): Promise<void> {
    const recorder = this.recorder(kind);
    await Wait.forCondition(`the gateway to drop ${pod}`, async () =>
      recorder.hasApplied(since, (instances) => !instances.some((i) => i.instance_id === pod))
        ? true
        : recorder.describeLast(),
    )
      .withStartupTimeout(15_000)
      .waitUntilReady(this.gateway.process);
  }

  /** The last lines of every component's log, for failure messages. */
  describeLogs(lines = 25): string {
    const all = [
      this.redis,
      this.discoverer,
      this.probeDiscoverer,
      this.auth,
      ...this.#workers.values(),
      ...this.#probes.values(),
      this.gateway,
    ];
    return all
      .filter((c) => c.process !== undefined)
      .map((c) => `--- ${c.name} (${c.running ? 'running' : 'stopped'}) ---\n${tail(c.log(), lines)}`)
      .join('\n');
  }

  /** Stops everything, gateway first. Idempotent; keeps the logs unless `removeLogs`. */
  async stop(options: { removeLogs?: boolean } = {}): Promise<void> {
    await this.gateway.stop();
    await Promise.all([...this.#workers.values(), ...this.#probes.values(), this.auth].map((c) => c.stop()));
    await Promise.all([this.discoverer.stop(), this.probeDiscoverer.stop()]);
    await Promise.all([this.#workerTap?.stop(), this.#probeTap?.stop()]);
    await this.redis.stop();
    if (options.removeLogs === true) rmSync(this.logDir, { recursive: true, force: true });
  }
}
