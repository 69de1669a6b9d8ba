import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FakeDiscoverer,
  getFreePort,
  isPortFree,
  listInstances,
  type ManagedProcess,
  type ProcessSpec,
  redisServerSpec,
  referenceGatewayYaml,
  tail,
} from '@stickygw/testkit';
import { parse, stringify } from 'yaml';
import { gatewayComponent } from './gateway-component.js';
import { checkGrpcHealth } from './grpc-probe.js';
import type { ProcessStack, StackSettings } from './process-stack.js';
import { REPO_ROOT, serverEntry } from './repo-paths.js';
import { StackComponent } from './stack-component.js';
import { type ServiceLog, type StackDriver, UnknownPodError, type WorkerExit } from './stack-driver.js';
import { REDIS_USERS, redisAclUsers, redisUrlOf, writePrivate } from './stack-secrets.js';
import { Wait, type WaitStrategy } from './wait-strategies.js';

type InstanceKind = 'workers' | 'probes';

/** The recording relays one gateway replica polls: each replica has its own, so each can be waited for. */
interface ReplicaRelays {
  readonly workers: FakeDiscoverer;
  readonly probes: FakeDiscoverer | undefined;
}

/**
 * A running local stack and its fault operations: every component can be killed, stopped and
 * started again on the same port, workers and probes can be restarted on a new port or added, and
 * the gateways can be signalled and measured. Unless the gateway config is a fixed file, each
 * discoverer sits behind a recording {@link FakeDiscoverer} relay per gateway, so the stack can tell
 * what each gateway was told and did without calling through it (which would bind a worker to the
 * probe's session).
 */
export class StartedProcessStack implements StackDriver, AsyncDisposable {
  readonly kind = 'process';
  readonly redis: StackComponent;
  readonly discoverer: StackComponent;
  readonly probeDiscoverer: StackComponent;
  readonly auth: StackComponent;
  /** The first of {@link gateways}: the one gateway of a single-gateway stack. */
  readonly gateway: StackComponent;
  /** Every gateway replica, in start order (`gateway`, `gateway-2`, ...). */
  readonly gateways: readonly StackComponent[];
  readonly #workers = new Map<string, StackComponent>();
  readonly #probes = new Map<string, StackComponent>();
  /** Per gateway replica, in the order of {@link gateways}; empty with a fixed config file. */
  readonly #relays: ReplicaRelays[] = [];
  #stopped: Promise<StoppedProcessStack> | undefined;

  /** Components are created here and started by {@link ProcessStack.start}. */
  constructor(
    private readonly settings: StackSettings,
    readonly logDir: string,
  ) {
    const node = process.execPath;
    const { ports, logLevel, secrets } = settings;
    if (secrets !== undefined) writePrivate(this.discovererTokenFile, `${secrets.discovererToken}\n`);
    if (settings.jwtSecretFiles) {
      writePrivate(this.#jwtSecretFile('jwt-secret'), `${settings.jwtSecret}\n`);
      if (settings.jwtPreviousSecret !== undefined) {
        writePrivate(this.#jwtSecretFile('jwt-secret-previous'), `${settings.jwtPreviousSecret}\n`);
      }
    }
    this.redis = this.#component(
      'redis',
      ports.redis,
      (port) => ({
        ...redisServerSpec(
          port,
          secrets === undefined ? {} : { password: secrets.redisAdminPassword, acl: redisAclUsers(secrets) },
        ),
        name: 'redis',
        logFile: join(logDir, 'redis.log'),
        cwd: REPO_ROOT,
      }),
      (port) => Wait.forRedisPing(port),
    );
    const discoverer = (name: string, fixedPort: number | undefined, db: number) =>
      this.#component(
        name,
        fixedPort,
        (port) =>
          this.#spec(name, node, [serverEntry('discoverer')], {
            SERVICE_PORT_HTTP: String(port),
            REDIS_ADDR: `${this.#serviceRedisUrl('discoverer')}/${db}`,
            LISTEN_HOST: '127.0.0.1',
            LOG_LEVEL: logLevel,
            ...this.#discovererTokenEnv(),
          }),
        (port) => Wait.forHttp(`http://127.0.0.1:${port}/healthz`),
      );
    this.discoverer = discoverer('discoverer', ports.discoverer, 0);
    this.probeDiscoverer = discoverer('probe-discoverer', undefined, 1);
    this.auth = this.#component(
      'auth',
      ports.auth,
      (port) =>
        this.#spec('auth', node, [serverEntry('auth')], {
          SERVICE_PORT_GRPC: String(port),
          LISTEN_HOST: '127.0.0.1',
          REDIS_ADDR: this.#serviceRedisUrl('auth'),
          // Auth only signs: the previous secret is the verifiers' concern.
          ...this.#jwtEnv({ previous: false }),
          TOKEN_EXPIRATION: '1h',
          AUTH_SEED_TEST_USER: 'true',
          LOG_LEVEL: logLevel,
        }),
      (port) => Wait.forGrpcHealth(`127.0.0.1:${port}`),
    );
    this.gateways = Array.from({ length: settings.gatewayCount }, (_, i) => {
      const name = i === 0 ? 'gateway' : `gateway-${i + 1}`;
      return gatewayComponent({
        name,
        configPath: this.#gatewayConfigPathOf(i),
        retryCount: settings.retryCount,
        retryTimeoutMs: settings.retryTimeoutMs,
        logLevel,
        // A fixed config file names the token by `discoverer_token_env: DISCOVERER_TOKEN`
        // (config/gateway.local.yaml); the generated ones by the token file.
        env: () => ({
          ...this.#jwtEnv({ previous: true }),
          ...(settings.secrets === undefined
            ? {}
            : {
                DISCOVERER_TOKEN: settings.secrets.discovererToken,
                ...(settings.gatewayCount > 1 ? { SESSION_STORE_URL: this.#serviceRedisUrl('gateway') } : {}),
              }),
          ...(ports.admin === undefined ? {} : { ADMIN_PORT: String(ports.admin + i) }),
          ...settings.gatewayEnv,
        }),
        ...(ports.gateway === undefined ? {} : { fixedPort: ports.gateway + i }),
        logFile: join(logDir, `${name}.log`),
        cwd: REPO_ROOT,
        startupTimeoutMs: settings.startupTimeoutMs,
        onProgress: settings.onProgress,
      });
    });
    this.gateway = this.gateways[0] as StackComponent;
  }

  /** The start-up sequence; on failure {@link ProcessStack.start} stops whatever was started. */
  async startAll(): Promise<void> {
    const { settings } = this;
    const progress = settings.onProgress;
    await this.#checkFixedPortsFree();
    progress('starting redis-server');
    await this.redis.start();
    // Never the URL with its password: progress lines end up in terminals and CI logs.
    progress(
      `  redis       redis://127.0.0.1:${this.redis.port}${settings.secrets === undefined ? '' : ` (password and ACL users ${Object.values(REDIS_USERS).join(', ')})`}`,
    );

    progress('starting discoverer');
    await Promise.all([this.discoverer.start(), settings.probes && this.probeDiscoverer.start()]);
    progress(`  discoverer  ${this.discovererUrl}`);

    progress(`starting auth and ${settings.workerCount} workers`);
    const workers = Array.from({ length: settings.workerCount }, (_, i) =>
      this.#newWorker(`worker-${i + 1}`),
    );
    const probes = Array.from({ length: settings.probes?.count ?? 0 }, (_, i) =>
      this.#newProbe(`probe-${i + 1}`),
    );
    await Promise.all([this.auth.start(), ...[...workers, ...probes].map((c) => c.start())]);
    progress(`  auth        ${this.authAddress}`);
    for (const instance of [...workers, ...probes])
      progress(`  ${instance.name.padEnd(11)} 127.0.0.1:${instance.port}`);

    // Started after every worker is listed, so their first discovery already returns all of them.
    progress(this.gateways.length === 1 ? 'starting gateway' : `starting ${this.gateways.length} gateways`);
    await this.#writeGatewayConfigs();
    await Promise.all(this.gateways.map((gateway) => gateway.start()));
    await this.waitForGatewayToSee(this.pods('workers'), 0);
    if (settings.probes !== undefined) await this.waitForGatewayToSee(this.pods('probes'), 0, 'probes');
    const seen = this.#relays.length > 0 ? 'has discovered' : 'started after the discoverer listed';
    for (const gateway of this.gateways) {
      progress(
        `  ${gateway.name.padEnd(11)} 127.0.0.1:${gateway.port} (${seen} ${this.pods('workers').join(', ')})`,
      );
    }
  }

  /**
   * Refuses before anything starts when a fixed port is taken (a second `make up`, a stale
   * process), rather than after redis, the discoverer, auth and the workers have come up. The
   * component's own check at bind time stays: a port can be taken after this one.
   */
  async #checkFixedPortsFree(): Promise<void> {
    const admin = this.settings.ports.admin;
    const fixed: [string, number][] = [this.redis, this.discoverer, this.auth, ...this.gateways]
      .filter((component) => component.port !== 0)
      .map((component) => [component.name, component.port]);
    if (admin !== undefined) {
      for (const [i, gateway] of this.gateways.entries()) fixed.push([`${gateway.name} admin`, admin + i]);
    }
    const free = await Promise.all(fixed.map(([, port]) => isPortFree(port)));
    const busy = fixed.filter((_, i) => !free[i]);
    if (busy.length > 0) {
      throw new Error(busy.map(([name, port]) => `${name}: port ${port} is already in use`).join('; '));
    }
  }

  /**
   * A generated config per replica, naming its own relays; a fixed file is used as it is by a single
   * gateway and copied with the session store added for several.
   */
  async #writeGatewayConfigs(): Promise<void> {
    const { gatewayConfigFile, probes } = this.settings;
    if (gatewayConfigFile !== undefined) {
      if (this.gateways.length > 1) {
        const document = parse(readFileSync(gatewayConfigFile, 'utf8')) as Record<string, unknown>;
        writeFileSync(this.#gatewayConfigPathOf(0), this.#withSessionStore(document));
      }
      return;
    }
    for (const [replica] of this.gateways.entries()) {
      const relays: ReplicaRelays = {
        workers: await FakeDiscoverer.relay(() => this.discovererUrl),
        probes: probes === undefined ? undefined : await FakeDiscoverer.relay(() => this.probeDiscovererUrl),
      };
      this.#relays.push(relays);
      writeFileSync(this.#gatewayConfigPathOf(replica), this.#gatewayYaml(relays));
    }
  }

  #gatewayYaml(relays: ReplicaRelays): string {
    const { discovererIntervalMs, probes, workerCluster } = this.settings;
    const yaml = referenceGatewayYaml({
      authAddress: this.authAddress,
      discovererUrl: relays.workers.url,
      discovererIntervalMs,
      ...(this.settings.secrets === undefined
        ? {}
        : { discovererToken: { tokenFile: this.discovererTokenFile } }),
      workerCluster,
    });
    if (probes !== undefined && relays.probes !== undefined) {
      yaml
        .route(probes.routePrefix, 'probe', { authorization: 'required', stickyHeader: 'session-id' })
        .dynamicCluster(
          'probe',
          relays.probes.url,
          discovererIntervalMs,
          this.settings.secrets === undefined ? {} : { token: { tokenFile: this.discovererTokenFile } },
        );
    }
    // Several replicas share their bindings through the stack's Redis; one keeps the in-process store.
    if (this.gateways.length > 1) yaml.sessionStore(this.#sessionStore());
    return yaml.toString();
  }

  /** A fixed config file with `session_store` on the stack's Redis, for several replicas. */
  #withSessionStore(document: object): string {
    return stringify({ ...document, session_store: this.#sessionStore() });
  }

  #spec(name: string, command: string, args: string[], env: Record<string, string> = {}): ProcessSpec {
    return { name, command, args, env, logFile: join(this.logDir, `${name}.log`), cwd: REPO_ROOT };
  }

  #component(
    name: string,
    fixedPort: number | undefined,
    spec: (port: number) => ProcessSpec,
    ready: (port: number) => WaitStrategy,
  ): StackComponent {
    return new StackComponent({
      name,
      spec,
      ready,
      startupTimeoutMs: this.settings.startupTimeoutMs,
      onProgress: this.settings.onProgress,
      ...(fixedPort === undefined ? {} : { fixedPort }),
    });
  }

  /** A worker or probe: healthy on its port and listed with that port by its discoverer. */
  #instance(
    name: string,
    entry: string,
    discovererUrl: () => string,
    env: Record<string, string>,
    hasHealthService: boolean,
  ): StackComponent {
    const { settings } = this;
    return this.#component(
      name,
      undefined,
      (port) =>
        this.#spec(name, process.execPath, [entry], {
          SERVICE_PORT_GRPC: String(port),
          LISTEN_HOST: '127.0.0.1',
          MY_DISCOVERER_URL: discovererUrl(),
          INSTANCE_ID: name,
          DISCOVERABLE_HOST: '127.0.0.1',
          REGISTRATION_TTL_MS: String(settings.registrationTtlMs),
          REGISTRATION_HEARTBEAT_INTERVAL_MS: String(settings.heartbeatMs),
          LOG_LEVEL: settings.logLevel,
          ...this.#discovererTokenEnv(),
          ...env,
        }),
      (port) =>
        Wait.forCondition(`${name} serving on 127.0.0.1:${port} and listed by the discoverer`, async () => {
          if (hasHealthService) {
            const health = await checkGrpcHealth(`127.0.0.1:${port}`, 1_000);
            if (health !== 'SERVING') return `health ${health}`;
          }
          const listed = await listInstances(discovererUrl());
          const entry = listed.find((instance) => instance.instance_id === name);
          if (entry === undefined)
            return `not listed yet (listed: ${listed.map((i) => i.instance_id).join(', ') || 'none'})`;
          return entry.port === port ? true : `listed with port ${entry.port}`;
        }),
    );
  }

  #newWorker(pod: string): StackComponent {
    const worker = this.#instance(
      pod,
      serverEntry('service'),
      () => this.discovererUrl,
      {
        ...this.#jwtEnv({ previous: true }),
        SUBSCRIBE_INTERVAL_MS: String(this.settings.subscribeIntervalMs),
      },
      true,
    );
    this.#workers.set(pod, worker);
    return worker;
  }

  #newProbe(pod: string): StackComponent {
    const entry = this.settings.probes?.entry;
    if (entry === undefined) throw new Error('this stack has no probe cluster');
    const probe = this.#instance(pod, entry, () => this.probeDiscovererUrl, {}, false);
    this.#probes.set(pod, probe);
    return probe;
  }

  /** The stack's Redis as its `default` user (with the admin password when secured): for tests and operators. */
  get redisUrl(): string {
    const secrets = this.settings.secrets;
    return secrets === undefined
      ? `redis://127.0.0.1:${this.redis.port}`
      : `redis://:${secrets.redisAdminPassword}@127.0.0.1:${this.redis.port}`;
  }

  /**
   * Several replicas share their bindings through the stack's Redis. A secured stack's URL carries
   * the gateway user's password, so it goes in `SESSION_STORE_URL` instead of a YAML file on disk.
   */
  #sessionStore(): { type: 'redis'; url?: string } {
    return this.settings.secrets === undefined ? { type: 'redis', url: this.redisUrl } : { type: 'redis' };
  }

  /** The URL a service connects with: its own ACL user when secured. */
  #serviceRedisUrl(service: keyof typeof REDIS_USERS): string {
    const secrets = this.settings.secrets;
    if (secrets === undefined) return this.redisUrl;
    const password = {
      auth: secrets.redisAuthPassword,
      discoverer: secrets.redisDiscovererPassword,
      gateway: secrets.redisGatewayPassword,
    }[service];
    return redisUrlOf(REDIS_USERS[service], password, `127.0.0.1:${this.redis.port}`);
  }

  /** Secured stacks: the token file every discoverer client and the discoverer read (mode 0600). */
  get discovererTokenFile(): string {
    return join(this.logDir, 'secrets', 'discoverer-token');
  }

  /** `Authorization` for the harness' own calls to the discoverer (none for an open stack). */
  get discovererHeaders(): Record<string, string> {
    const secrets = this.settings.secrets;
    return secrets === undefined ? {} : { authorization: `Bearer ${secrets.discovererToken}` };
  }

  get secured(): boolean {
    return this.settings.secrets !== undefined;
  }

  #jwtSecretFile(name: string): string {
    return join(this.logDir, 'secrets', name);
  }

  /** The JWT secrets of a service, inline or as files ({@link ProcessStack.withJwtSecretFiles}). */
  #jwtEnv({ previous }: { readonly previous: boolean }): Record<string, string> {
    const { jwtSecret, jwtPreviousSecret, jwtSecretFiles } = this.settings;
    const withPrevious = previous && jwtPreviousSecret !== undefined;
    if (jwtSecretFiles) {
      return {
        JWT_SECRET_FILE: this.#jwtSecretFile('jwt-secret'),
        ...(withPrevious ? { JWT_SECRET_PREVIOUS_FILE: this.#jwtSecretFile('jwt-secret-previous') } : {}),
      };
    }
    return { JWT_SECRET: jwtSecret, ...(withPrevious ? { JWT_SECRET_PREVIOUS: jwtPreviousSecret } : {}) };
  }

  #discovererTokenEnv(): Record<string, string> {
    return this.settings.secrets === undefined ? {} : { DISCOVERER_TOKEN_FILE: this.discovererTokenFile };
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

  /** Every gateway replica's address, the first being {@link gatewayAddress}. */
  get gatewayAddresses(): string[] {
    return this.gateways.map((gateway) => `127.0.0.1:${gateway.port}`);
  }

  get gatewayPid(): number {
    const pid = this.gateway.process?.pid;
    if (pid === undefined) throw new Error('the gateway has not been started');
    return pid;
  }

  get jwtSecret(): string {
    return this.settings.jwtSecret;
  }

  /** The first gateway's config file. */
  get gatewayConfigPath(): string {
    return this.#gatewayConfigPathOf(0);
  }

  /** Replicas of a fixed config share one copy of it; generated configs are one per replica. */
  #gatewayConfigPathOf(replica: number): string {
    const { gatewayConfigFile, gatewayCount } = this.settings;
    if (gatewayConfigFile !== undefined && gatewayCount === 1) return gatewayConfigFile;
    const shared = gatewayConfigFile !== undefined || replica === 0;
    return join(this.logDir, shared ? 'gateway.yaml' : `gateway-${replica + 1}.yaml`);
  }

  #components(): StackComponent[] {
    return [
      this.redis,
      this.discoverer,
      this.probeDiscoverer,
      this.auth,
      ...this.#workers.values(),
      ...this.#probes.values(),
      ...this.gateways,
    ];
  }

  /** Every process of the stack started so far, for state files and diagnostics. */
  processes(): ManagedProcess[] {
    return this.#components().flatMap((component) => (component.process ? [component.process] : []));
  }

  /** The pod names of the workers (or probes), in start order. */
  pods(kind: InstanceKind = 'workers'): string[] {
    return [...(kind === 'workers' ? this.#workers : this.#probes).keys()];
  }

  /** A worker or probe by pod name. */
  instance(pod: string): StackComponent {
    const found = this.#workers.get(pod) ?? this.#probes.get(pod);
    if (found === undefined) throw new UnknownPodError(pod, this.pods());
    return found;
  }

  running(pod: string): boolean {
    return this.instance(pod).running;
  }

  /** Environment a worker is started with (for a driver that restarts it from another process). */
  workerSpec(pod: string): ProcessSpec {
    return this.instance(pod).spec();
  }

  workerPort(pod: string): number {
    return this.instance(pod).port;
  }

  async workerPods(): Promise<string[]> {
    return this.pods('workers');
  }

  async killWorker(pod: string): Promise<void> {
    const worker = this.instance(pod);
    if (!worker.running) throw new Error(`cannot kill ${pod}: it is not running`);
    await worker.kill();
  }

  async stopAllWorkers(): Promise<void> {
    await Promise.all([...this.#workers.values()].map((worker) => worker.stop()));
  }

  async startWorker(pod: string): Promise<void> {
    const worker = this.instance(pod);
    if (worker.running) throw new Error(`cannot start ${pod}: it is already running`);
    const since = Date.now();
    // The dead worker's entry outlives it (workers never deregister); removing it first lets
    // "listed again" prove that the new process registered itself.
    await fetch(`${this.discovererUrl}/v1/unregister/${encodeURIComponent(pod)}`, {
      method: 'POST',
      headers: this.discovererHeaders,
      signal: AbortSignal.timeout(2_000),
    });
    await worker.start();
    await this.waitForGatewayToSee([pod], since);
  }

  async startAllWorkers(): Promise<void> {
    const stopped = [...this.#workers.values()].filter((worker) => !worker.running);
    await Promise.all(stopped.map((worker) => this.startWorker(worker.name)));
  }

  async waitForWorkerExit(pod: string, timeoutMs: number): Promise<WorkerExit> {
    const worker = this.instance(pod).process;
    if (worker === undefined) throw new Error(`${pod} has not been started`);
    return worker.waitForExit(timeoutMs);
  }

  async workerLog(pod: string): Promise<string> {
    return this.instance(pod).log();
  }

  async logs(): Promise<ServiceLog[]> {
    return this.processes().map((process) => ({ name: process.name, text: process.output() }));
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
  async add(kind: InstanceKind = 'workers'): Promise<string> {
    const pods = kind === 'workers' ? this.#workers : this.#probes;
    const pod = `${kind === 'workers' ? 'worker' : 'probe'}-${pods.size + 1}`;
    const instance = kind === 'workers' ? this.#newWorker(pod) : this.#newProbe(pod);
    const since = Date.now();
    await instance.start();
    await this.waitForGatewayToSee([pod], since, kind);
    return pod;
  }

  /** What the (first) gateway was told and did at the workers' (or probes') discoverer. */
  recorder(kind: InstanceKind = 'workers', replica = 0): FakeDiscoverer {
    const recorder = this.#relays[replica]?.[kind];
    if (recorder === undefined) throw new Error(`no recorded ${kind} cluster in this stack`);
    return recorder;
  }

  /**
   * The gateways a discovery wait watches, with the replica index of their recorders: the running
   * ones (a killed replica learns nothing), or all when none runs, so the wait fails naming the exit.
   */
  #watchedReplicas(): { gateway: StackComponent; replica: number }[] {
    const all = this.gateways.map((gateway, replica) => ({ gateway, replica }));
    const running = all.filter(({ gateway }) => gateway.running);
    return running.length > 0 ? running : all;
  }

  /**
   * Resolves once every running gateway has applied a list, fetched after `since`, naming every pod
   * at its current port. With a fixed config file (no relay) the start order guarantees it instead:
   * a gateway refreshes once before it serves (REFERENCE.md 6.8) and is started after the workers.
   */
  async waitForGatewayToSee(
    pods: readonly string[],
    since: number,
    kind: InstanceKind = 'workers',
  ): Promise<void> {
    if (this.settings.gatewayConfigFile !== undefined) return;
    const listed = (instances: readonly { instance_id: string; port: number }[]) =>
      pods.every((pod) => instances.some((i) => i.instance_id === pod && i.port === this.instance(pod).port));
    await Promise.all(
      this.#watchedReplicas().map(({ gateway, replica }) => {
        const recorder = this.recorder(kind, replica);
        return Wait.forCondition(`the ${gateway.name} to discover ${pods.join(', ')}`, async () =>
          recorder.hasApplied(since, listed) ? true : recorder.describeLast(),
        )
          .withStartupTimeout(Math.max(15_000, this.settings.discovererIntervalMs * 10))
          .waitUntilReady(gateway.process);
      }),
    );
  }

  /** Resolves once every running gateway has applied a list, fetched after `since`, without `pod`. */
  async waitForGatewayToForget(pod: string, since: number, kind: InstanceKind = 'workers'): Promise<void> {
    await Promise.all(
      this.#watchedReplicas().map(({ gateway, replica }) => {
        const recorder = this.recorder(kind, replica);
        return Wait.forCondition(`the ${gateway.name} to drop ${pod}`, async () =>
          recorder.hasApplied(since, (instances) => !instances.some((i) => i.instance_id === pod))
            ? true
            : recorder.describeLast(),
        )
          .withStartupTimeout(15_000)
          .waitUntilReady(gateway.process);
      }),
    );
  }

  /** The last lines of every component's log, for failure messages. */
  describeLogs(lines = 25): string {
    return this.#components()
      .filter((c) => c.process !== undefined)
      .map((c) => `--- ${c.name} (${c.running ? 'running' : 'stopped'}) ---\n${tail(c.log(), lines)}`)
      .join('\n');
  }

  /** Stops everything (gateways first, so no call reaches a half-stopped stack). Idempotent. */
  stop(): Promise<StoppedProcessStack> {
    this.#stopped ??= (async () => {
      await Promise.all(this.gateways.map((gateway) => gateway.stop()));
      await Promise.all(
        [...this.#workers.values(), ...this.#probes.values(), this.auth].map((c) => c.stop()),
      );
      await Promise.all([this.discoverer.stop(), this.probeDiscoverer.stop()]);
      await Promise.all(this.#relays.flatMap((relays) => [relays.workers.stop(), relays.probes?.stop()]));
      await this.redis.stop();
      return new StoppedProcessStack(this.logDir);
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
