import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort, listInstances, referenceGatewayYaml } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { login, myServiceClient } from '../reliability/gateway-clients.js';
import { AttachedStackDriver } from './attached-stack.js';
import { checkGrpcHealth, probeUnary } from './grpc-probe.js';
import { localStackState } from './local-stack-state.js';
import { ProcessStack } from './process-stack.js';
import { REPO_ROOT } from './repo-paths.js';
import { StackComponent } from './stack-component.js';
import { isAlive, signalGroup } from './stack-state.js';
import type { StartedProcessStack } from './started-process-stack.js';
import { liveChildrenOf } from './test-support/child-processes.js';
import { Wait } from './wait-strategies.js';

/** The shell command of a Dockerfile's HEALTHCHECK. */
function healthCheckOf(workspace: string): string {
  const text = readFileSync(join(REPO_ROOT, workspace, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const match = /^HEALTHCHECK .*?\bCMD (.*)$/m.exec(text);
  if (match?.[1] === undefined) throw new Error(`${workspace}/Dockerfile has no HEALTHCHECK CMD`);
  return match[1];
}

function runHealthCheck(workspace: string, env: Record<string, string>): number {
  try {
    execFileSync('sh', ['-c', healthCheckOf(workspace)], {
      env: { PATH: process.env.PATH, ...env },
      timeout: 10_000,
    });
    return 0;
  } catch (error) {
    return (error as { status?: number }).status ?? -1;
  }
}

describe('ProcessStack', () => {
  let stack: StartedProcessStack;
  let adminPort: number;
  const progress: string[] = [];

  beforeAll(async () => {
    // The gateway's HEALTHCHECK asks its admin listener's /readyz.
    adminPort = await getFreePort();
    stack = await new ProcessStack()
      .withFixedPorts({ admin: adminPort })
      .withProgress((line) => progress.push(line))
      .start();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('reports each start-up step and every address', () => {
    expect(progress.join('\n')).toMatch(
      /starting redis-server[\s\S]*starting discoverer[\s\S]*starting gateway/,
    );
    expect(progress.join('\n')).toContain(stack.gatewayAddress);
  });

  it('starts the gateway only once it answers calls, on loopback', async () => {
    expect(stack.gatewayAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const answer = await probeUnary(stack.gatewayAddress, '/no.such.Service/Method', Buffer.alloc(0), 2_000);
    expect(answer).toMatchObject({ code: 12, details: 'method not routed' });
  });

  it('registers three workers with distinct instance ids on 127.0.0.1', async () => {
    const pods = await stack.workerPods();
    expect(pods).toEqual(['worker-1', 'worker-2', 'worker-3']);
    const listed = await listInstances(stack.discovererUrl);
    expect(listed.map((instance) => instance.instance_id).sort()).toEqual(pods);
    for (const instance of listed) {
      expect(instance.ipv4).toBe('127.0.0.1');
      expect(instance.port).toBe(stack.workerPort(instance.instance_id));
    }
  });

  it("passes every Dockerfile's HEALTHCHECK against the running services", () => {
    const port = (address: string) => address.split(':')[1] as string;
    expect(runHealthCheck('auth', { SERVICE_PORT_GRPC: port(stack.authAddress) })).toBe(0);
    expect(runHealthCheck('service', { SERVICE_PORT_GRPC: String(stack.workerPort('worker-1')) })).toBe(0);
    expect(runHealthCheck('discoverer', { SERVICE_PORT_HTTP: new URL(stack.discovererUrl).port })).toBe(0);
    expect(runHealthCheck('gateway', { ADMIN_PORT: String(adminPort) })).toBe(0);
  });

  it('fails a HEALTHCHECK when nothing serves the port', async () => {
    const unused = String(await getFreePort());
    expect(runHealthCheck('auth', { SERVICE_PORT_GRPC: unused })).toBe(1);
    expect(runHealthCheck('gateway', { ADMIN_PORT: unused })).toBe(1);
  });

  it('kills one worker with SIGKILL and starts it again with the same id and port', async () => {
    const [victim] = stack.processes().filter((process) => process.name === 'worker-2');
    await stack.killWorker('worker-2');
    expect(victim?.exitStatus).toEqual({ code: null, signal: 'SIGKILL' });
    for (const other of ['worker-1', 'worker-3']) {
      expect(stack.processes().find((process) => process.name === other)?.running).toBe(true);
    }
    await expect(stack.killWorker('worker-2')).rejects.toThrow('cannot kill worker-2: it is not running');

    await stack.startWorker('worker-2');
    expect(await checkGrpcHealth(`127.0.0.1:${stack.workerPort('worker-2')}`, 2_000)).toBe('SERVING');
    expect(stack.processes().find((process) => process.name === 'worker-2')?.running).toBe(true);
  });

  it('stops every worker gracefully and starts them all again', async () => {
    const before = stack.processes().filter((process) => process.name.startsWith('worker-'));
    await stack.stopAllWorkers();
    for (const worker of before) expect(worker.exitStatus?.signal ?? null, worker.name).toBeNull();
    await stack.startAllWorkers();
    const after = stack.processes().filter((process) => process.name.startsWith('worker-'));
    expect(after.every((worker) => worker.running)).toBe(true);
    expect((await listInstances(stack.discovererUrl)).length).toBe(3);
  });

  it('names the workers it knows when asked for an unknown pod', async () => {
    await expect(stack.killWorker('worker-9')).rejects.toThrow(
      'no worker with pod_name "worker-9" in this stack (workers: worker-1, worker-2, worker-3)',
    );
    await expect(stack.waitForWorkerExit('worker-1', 100)).rejects.toThrow(
      'worker-1 did not exit within 100 ms',
    );
  });

  it('is controllable from another process through the state file (make up + CLI --gateway)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stickygw-state-'));
    const state = await localStackState(stack, process.pid);
    if (state.mode !== 'local') throw new Error('unreachable');
    const driver = new AttachedStackDriver(state, join(dir, 'stack.json'));
    let restartedPid: number | undefined;
    try {
      await driver.killWorker('worker-3');
      expect(await stack.waitForWorkerExit('worker-3', 5_000)).toEqual({ code: null, signal: 'SIGKILL' });
      await driver.startWorker('worker-3');
      const written = JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8')) as typeof state;
      restartedPid = written.workers.find((worker) => worker.pod === 'worker-3')?.pid;
      expect(restartedPid).not.toBe(state.workers.find((worker) => worker.pod === 'worker-3')?.pid);
      expect(isAlive(restartedPid as number)).toBe(true);
      expect(await checkGrpcHealth(`127.0.0.1:${stack.workerPort('worker-3')}`, 2_000)).toBe('SERVING');
      expect(await driver.workerLog('worker-3')).toMatch(
        /--- worker-3: starting [\s\S]*--- worker-3: starting /,
      );
    } finally {
      if (restartedPid !== undefined) signalGroup(restartedPid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves no process behind when stopped', async () => {
    const pids = stack.processes().map((process) => process.pid);
    await stack.stop();
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(liveChildrenOf(process.pid)).toEqual([]);
  });
});

describe('ProcessStack with two gateways', () => {
  let stack: StartedProcessStack;
  const progress: string[] = [];

  beforeAll(async () => {
    stack = await new ProcessStack()
      .withGateways(2)
      .withWorkers(2)
      .withProgress((line) => progress.push(line))
      .start();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('starts two gateway replicas on distinct loopback ports and reports both', () => {
    expect(stack.gateways.map((gateway) => gateway.name)).toEqual(['gateway', 'gateway-2']);
    expect(stack.gatewayAddresses).toHaveLength(2);
    expect(stack.gatewayAddresses[0]).toBe(stack.gatewayAddress);
    expect(new Set(stack.gatewayAddresses).size).toBe(2);
    for (const address of stack.gatewayAddresses) {
      expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(progress.join('\n')).toContain(address);
    }
    expect(progress).toContain('starting 2 gateways');
  });

  it('gives each replica its own discovery relay and the same Redis session store', () => {
    const configs = ['gateway.yaml', 'gateway-2.yaml'].map(
      (file) =>
        parse(readFileSync(join(stack.logDir, file), 'utf8')) as {
          session_store?: unknown;
          clusters: Record<string, { discoverer_url?: string }>;
        },
    );
    for (const config of configs)
      expect(config.session_store).toEqual({ type: 'redis', url: stack.redisUrl });
    const discovererUrls = configs.map((config) => config.clusters.my_service?.discoverer_url);
    expect(discovererUrls).toEqual([stack.recorder('workers', 0).url, stack.recorder('workers', 1).url]);
    expect(new Set(discovererUrls).size).toBe(2);
  });

  it('answers calls through both gateways', async () => {
    for (const [i, address] of stack.gatewayAddresses.entries()) {
      const unrouted = await probeUnary(address, '/no.such.Service/Method', Buffer.alloc(0), 2_000);
      expect(unrouted, address).toMatchObject({ code: 12, details: 'method not routed' });
      const client = myServiceClient(address);
      try {
        const answer = await login(client, { session_id: `two-gateways-${i}` });
        expect(answer.code, `${address}: ${answer.details}`).toBe(0);
        expect(answer.value?.token).toBeTruthy();
      } finally {
        client.close();
      }
    }
  });

  it('waits for every replica to discover a new worker', async () => {
    const since = Date.now();
    const pod = await stack.add();
    const listed = (instances: readonly { instance_id: string }[]) =>
      instances.some((instance) => instance.instance_id === pod);
    expect(stack.recorder('workers', 0).hasApplied(since, listed)).toBe(true);
    expect(stack.recorder('workers', 1).hasApplied(since, listed)).toBe(true);
  });

  it('stops both gateways and leaves no process behind', async () => {
    const pids = stack.processes().map((process) => process.pid);
    expect(stack.processes().filter((process) => process.name.startsWith('gateway'))).toHaveLength(2);
    await stack.stop();
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(liveChildrenOf(process.pid)).toEqual([]);
  });
});

describe('ProcessStack with two gateways on a fixed config file', () => {
  it('gives both a copy of the file with the Redis session store added', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stickygw-fixed-'));
    const [auth, discoverer] = [await getFreePort(), await getFreePort()];
    const fixed = referenceGatewayYaml({
      authAddress: `127.0.0.1:${auth}`,
      discovererUrl: `http://127.0.0.1:${discoverer}`,
      discovererIntervalMs: 300,
    }).document();
    const configFile = join(dir, 'fixed.yaml');
    writeFileSync(configFile, stringify(fixed));
    const stack = await new ProcessStack()
      .withGateways(2)
      .withWorkers(1)
      .withFixedPorts({ auth, discoverer })
      .withGatewayConfigFile(configFile)
      .withLogDir(join(dir, 'logs'))
      .start();
    try {
      expect(stack.gatewayConfigPath).toBe(join(stack.logDir, 'gateway.yaml'));
      expect(parse(readFileSync(stack.gatewayConfigPath, 'utf8'))).toEqual({
        ...fixed,
        session_store: { type: 'redis', url: stack.redisUrl },
      });
      expect(parse(readFileSync(configFile, 'utf8'))).toEqual(fixed);
      for (const gateway of stack.gateways)
        expect(gateway.spec().env?.CONFIG_PATH, gateway.name).toBe(stack.gatewayConfigPath);
      for (const address of stack.gatewayAddresses) {
        const client = myServiceClient(address);
        try {
          expect((await login(client, { session_id: 'fixed-config' })).code, address).toBe(0);
        } finally {
          client.close();
        }
      }
    } finally {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('ProcessStack start-up failure', () => {
  let blocker: Server;
  let port: number;
  const connections = new Set<Socket>();

  beforeAll(async () => {
    port = await getFreePort();
    // Holds the port; the readiness probe's connections are accepted and never answered.
    blocker = createServer((socket) => {
      connections.add(socket);
      socket.on('close', () => connections.delete(socket));
    });
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of connections) socket.destroy();
    await new Promise((resolve) => blocker.close(resolve));
  });

  it('names the busy fixed port before starting anything', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'stickygw-fail-'));
    try {
      await expect(
        new ProcessStack().withFixedPorts({ gateway: port }).withLogDir(logDir).start(),
      ).rejects.toThrow(`gateway: port ${port} is already in use`);
      // No component wrote a log: redis, the discoverer, auth and the workers were never started.
      expect(readdirSync(logDir).filter((file) => file.endsWith('.log'))).toEqual([]);
      expect(liveChildrenOf(process.pid)).toEqual([]);
    } finally {
      rmSync(logDir, { recursive: true, force: true });
    }
  });

  it('names a fixed port taken after that check, once the component fails to bind it', async () => {
    // The component binds the way the servers do; the port is taken between check and bind.
    const component = new StackComponent({
      name: 'listener',
      fixedPort: port,
      spec: (chosen) => ({
        name: 'listener',
        command: process.execPath,
        args: ['-e', `require('node:net').createServer().listen(${chosen}, '127.0.0.1')`],
      }),
      ready: (chosen) => Wait.forHttp(`http://127.0.0.1:${chosen}/`),
      startupTimeoutMs: 10_000,
      onProgress: () => {},
    });
    await expect(component.start()).rejects.toThrow(`listener: port ${port} is already in use`);
    expect(liveChildrenOf(process.pid)).toEqual([]);
  });
});
