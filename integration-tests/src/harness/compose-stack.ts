import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseInstances } from '@stickygw/testkit';
import type {
  ContainerRuntimeClient,
  StartedDockerComposeEnvironment,
  StartedTestContainer,
} from 'testcontainers';
import { parse } from 'yaml';
import { UNROUTED_METHOD } from './gateway-component.js';
import { REPO_ROOT } from './repo-paths.js';
import { type ServiceLog, type StackDriver, UnknownPodError, type WorkerExit } from './stack-driver.js';
import { readOrCreateSecretsFile, writeComposeSecrets } from './stack-secrets.js';
import { Wait } from './wait-strategies.js';

const APP_SERVICES = ['redis', 'mydiscoverer', 'myauth', 'myservice'];
const GATEWAY_PORT = 10_000;
const UNIMPLEMENTED = 12;

interface ComposeFileView {
  services?: Record<
    string,
    { environment?: Record<string, string> | string[]; deploy?: { replicas?: number } }
  >;
}

/** `JWT_SECRET` and the worker replica count, read from the compose file itself. */
function readComposeFile(path: string): { jwtSecret: string; replicas: number } {
  const doc = parse(readFileSync(path, 'utf8')) as ComposeFileView;
  const gateway = doc.services?.mygateway?.environment;
  const entries = Array.isArray(gateway)
    ? gateway.map((line) => line.split('=', 2) as [string, string])
    : Object.entries(gateway ?? {});
  const secret = entries.find(([name]) => name === 'JWT_SECRET')?.[1];
  if (secret === undefined) throw new Error(`${path}: mygateway has no JWT_SECRET`);
  return { jwtSecret: String(secret), replicas: doc.services?.myservice?.deploy?.replicas ?? 1 };
}

/**
 * The stack of `docker-compose.yml` through testcontainers' `DockerComposeEnvironment`, for
 * machines with a container runtime. Typestate as {@link ProcessStack}: configure → `start()` →
 * {@link StartedComposeStack} → `stop()`.
 */
export class ComposeStack {
  #startupTimeoutMs = 180_000;
  #onProgress: (line: string) => void = () => {};

  constructor(private readonly composeFile = join(REPO_ROOT, 'docker-compose.yml')) {}

  withStartupTimeout(ms: number): this {
    this.#startupTimeoutMs = ms;
    return this;
  }

  withProgress(onProgress: (line: string) => void): this {
    this.#onProgress = onProgress;
    return this;
  }

  async start(): Promise<StartedComposeStack> {
    const { DockerComposeEnvironment, getContainerRuntimeClient } = await import('testcontainers');
    const { jwtSecret, replicas } = readComposeFile(this.composeFile);
    const projectName = `stickygw-${randomBytes(4).toString('hex')}`;
    const dir = dirname(this.composeFile);
    const file = basename(this.composeFile);
    const progress = this.#onProgress;
    // The files the compose file reads (`env_file:`, the Redis ACL file), as `make up` writes them.
    const stackDir = join(dir, '.stack');
    writeComposeSecrets(readOrCreateSecretsFile(join(stackDir, 'secrets.env')), join(stackDir, 'secrets'));

    progress(`docker compose project ${projectName}: building and starting ${APP_SERVICES.join(', ')}`);
    const services = await new DockerComposeEnvironment(dir, file)
      .withProjectName(projectName)
      .withBuild()
      .withStartupTimeout(this.#startupTimeoutMs)
      .up(APP_SERVICES);
    const client = await getContainerRuntimeClient();
    const stack = new StartedComposeStack(client, services, projectName, jwtSecret, replicas);
    try {
      await stack.waitForWorkersListed(this.#startupTimeoutMs);
      // The gateway starts after every worker is listed: its first discovery, made before it
      // serves (REFERENCE.md 6.8), already returns all of them.
      progress('starting mygateway');
      const all = await new DockerComposeEnvironment(dir, file)
        .withNoRecreate()
        .withProjectName(projectName)
        .withStartupTimeout(this.#startupTimeoutMs)
        .up(['mygateway']);
      stack.attachGateway(all.getContainer('mygateway-1'), all);
      await Wait.forGrpcStatus(stack.gatewayAddress, UNROUTED_METHOD, UNIMPLEMENTED)
        .withStartupTimeout(this.#startupTimeoutMs)
        .waitUntilReady();
      progress(`mygateway ready on ${stack.gatewayAddress}`);
      return stack;
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }
}

/** Docker multiplexes stdout/stderr of a non-TTY container into 8-byte-framed chunks. */
function demuxDockerLog(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

interface WorkerContainer {
  readonly id: string;
  /** The container's hostname = the worker's instance id = `pod_name`. */
  readonly pod: string;
}

export class StartedComposeStack implements StackDriver, AsyncDisposable {
  readonly kind = 'compose';
  #environment: StartedDockerComposeEnvironment;
  #gateway: StartedTestContainer | undefined;

  constructor(
    private readonly client: ContainerRuntimeClient,
    services: StartedDockerComposeEnvironment,
    readonly projectName: string,
    readonly jwtSecret: string,
    private readonly replicas: number,
  ) {
    this.#environment = services;
  }

  get gatewayAddress(): string {
    if (this.#gateway === undefined) throw new Error('mygateway is not started');
    return `${this.#gateway.getHost()}:${this.#gateway.getMappedPort(GATEWAY_PORT)}`;
  }

  attachGateway(gateway: StartedTestContainer, environment: StartedDockerComposeEnvironment): void {
    this.#gateway = gateway;
    this.#environment = environment;
  }

  #workers(): WorkerContainer[] {
    const workers: WorkerContainer[] = [];
    for (let n = 1; n <= this.replicas; n++) {
      const container = this.#environment.getContainer(`myservice-${n}`);
      workers.push({ id: container.getId(), pod: container.getHostname() });
    }
    return workers;
  }

  #worker(pod: string): WorkerContainer {
    const workers = this.#workers();
    const worker = workers.find((candidate) => candidate.pod === pod || candidate.id.startsWith(pod));
    if (worker === undefined)
      throw new UnknownPodError(
        pod,
        workers.map((w) => w.pod),
      );
    return worker;
  }

  /** `docker exec` into the discoverer: its port is not published. */
  async #discoverer(method: 'GET' | 'POST', path: string): Promise<{ status: number; body: string }> {
    const script =
      `fetch('http://127.0.0.1:8080${path}',{method:'${method}'})` +
      '.then(async r=>process.stdout.write(JSON.stringify({status:r.status,body:await r.text()})))';
    const result = await this.#environment.getContainer('mydiscoverer-1').exec(['node', '-e', script]);
    if (result.exitCode !== 0) throw new Error(`exec in mydiscoverer failed: ${result.output}`);
    return JSON.parse(result.stdout) as { status: number; body: string };
  }

  async #listedPods(): Promise<string[]> {
    const { status, body } = await this.#discoverer('GET', '/v1/instances');
    return parseInstances(status, body).map((instance) => instance.instance_id);
  }

  async waitForWorkersListed(timeoutMs: number, pods?: readonly string[]): Promise<void> {
    const expected = pods ?? this.#workers().map((worker) => worker.pod);
    await Wait.forCondition(`the discoverer to list ${expected.join(', ')}`, async () => {
      const listed = await this.#listedPods();
      return expected.every((pod) => listed.includes(pod)) ? true : `listed: ${listed.join(', ') || 'none'}`;
    })
      .withStartupTimeout(timeoutMs)
      .withPollInterval(500)
      .waitUntilReady();
  }

  async #running(id: string): Promise<{ running: boolean; exitCode: number }> {
    const info = await this.client.container.inspect(this.client.container.getById(id));
    return { running: info.State.Running, exitCode: info.State.ExitCode };
  }

  async workerPods(): Promise<string[]> {
    return this.#workers().map((worker) => worker.pod);
  }

  async killWorker(pod: string): Promise<void> {
    const { id } = this.#worker(pod);
    await this.client.container.getById(id).kill({ signal: 'SIGKILL' });
    await this.waitForWorkerExit(pod, 30_000);
  }

  async stopAllWorkers(): Promise<void> {
    await Promise.all(
      this.#workers().map((worker) =>
        this.client.container.stop(this.client.container.getById(worker.id), { timeout: 10 }),
      ),
    );
  }

  async startWorker(pod: string): Promise<void> {
    const worker = this.#worker(pod);
    await this.#discoverer('POST', `/v1/unregister/${encodeURIComponent(worker.pod)}`);
    await this.client.container.start(this.client.container.getById(worker.id));
    await this.waitForWorkersListed(60_000, [worker.pod]);
  }

  async startAllWorkers(): Promise<void> {
    for (const worker of this.#workers()) {
      if (!(await this.#running(worker.id)).running) await this.startWorker(worker.pod);
    }
  }

  async waitForWorkerExit(pod: string, timeoutMs: number): Promise<WorkerExit> {
    const { id } = this.#worker(pod);
    let exitCode = 0;
    await Wait.forCondition(`container ${pod} to stop`, async () => {
      const state = await this.#running(id);
      exitCode = state.exitCode;
      return state.running ? 'still running' : true;
    })
      .withStartupTimeout(timeoutMs)
      .withPollInterval(100)
      .waitUntilReady();
    return { code: exitCode, signal: null };
  }

  async #containerLog(id: string): Promise<string> {
    const raw = (await this.client.container.dockerode
      .getContainer(id)
      .logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return demuxDockerLog(raw);
  }

  async workerLog(pod: string): Promise<string> {
    return this.#containerLog(this.#worker(pod).id);
  }

  async logs(): Promise<ServiceLog[]> {
    const containers = await this.client.container.list();
    const mine = containers.filter((info) => info.Labels['com.docker.compose.project'] === this.projectName);
    return Promise.all(
      mine.map(async (info) => ({
        name: info.Names[0]?.replace(/^\//, '') ?? info.Id,
        text: await this.#containerLog(info.Id),
      })),
    );
  }

  async stop(): Promise<void> {
    await this.#environment.down({ removeVolumes: true, timeout: 10_000 });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
