#!/usr/bin/env node
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeExit } from '@stickygw/testkit';
import { probeContainerRuntime } from './harness/container-runtime.js';
import { UNROUTED_METHOD } from './harness/gateway-component.js';
import { LOCAL_STACK } from './harness/local-stack.js';
import { localStackState } from './harness/local-stack-state.js';
import { ProcessStack } from './harness/process-stack.js';
import { REPO_ROOT } from './harness/repo-paths.js';
import { readOrCreateSecretsFile, type StackSecrets, writeComposeSecrets } from './harness/stack-secrets.js';
import {
  isAlive,
  readStackState,
  removeStackState,
  STACK_DIR,
  signalGroup,
  writeStackState,
} from './harness/stack-state.js';
import type { StartedProcessStack } from './harness/started-process-stack.js';
import { Wait } from './harness/wait-strategies.js';

/**
 * `make up`: the whole stack in the foreground. Docker Compose when an engine answers, otherwise
 * the same topology as local processes on 127.0.0.1 (gateway :10000, discoverer :8080, auth :5001,
 * three workers, redis-server :6380). Prints the mode, every address and a `ready` line; Ctrl-C (or
 * `make down` from another shell) stops everything. `GATEWAYS=N` runs N local gateway replicas on
 * 10000, 10001, ... sharing their sessions through the stack's Redis.
 *
 * Either way the stack is secured (README "Security"): the discoverer token and the Redis passwords
 * are generated once into `.stack/secrets.env` (mode 0600, gitignored) and reused by later runs;
 * compose reads the per-service env files and the Redis ACL file derived from it in `.stack/secrets/`.
 */

const GATEWAY = `127.0.0.1:${LOCAL_STACK.gatewayPort}`;
/** The compose file's second gateway service, `mygateway-2`, on the next host port. */
const COMPOSE_GATEWAY_2 = `127.0.0.1:${LOCAL_STACK.gatewayPort + 1}`;

function gatewayCount(): number {
  const value = process.env.GATEWAYS ?? '1';
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1) {
    console.error(`GATEWAYS must be a positive integer, got ${JSON.stringify(value)}`);
    process.exit(1);
  }
  return count;
}

function refuseIfRunning(): void {
  const state = readStackState();
  if (state === undefined) return;
  if (isAlive(state.pid)) {
    console.error(
      `a stack is already running (pid ${state.pid}, gateway ${state.gatewayAddress}): run \`make down\` first`,
    );
    process.exit(1);
  }
  removeStackState();
}

/** `docker compose` (plugin) or the standalone `docker-compose`, whichever works. */
function composeCommand(): string[] | undefined {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0)
    return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  return undefined;
}

const SECRETS_FILE = join(STACK_DIR, 'secrets.env');
/** What docker-compose.yml reads (`env_file:`, the Redis ACL file). */
const COMPOSE_SECRETS_DIR = join(STACK_DIR, 'secrets');

async function upWithCompose(command: string[], gateways: number, secrets: StackSecrets): Promise<void> {
  const composeFile = join(REPO_ROOT, 'docker-compose.yml');
  writeComposeSecrets(secrets, COMPOSE_SECRETS_DIR);
  console.log(`mode: Docker Compose (${composeFile})`);
  if (gateways !== 2 && process.env.GATEWAYS !== undefined)
    console.log(`  GATEWAYS=${gateways} applies to local mode; the compose file runs two gateways`);
  console.log(
    `  gateways ${GATEWAY}, ${COMPOSE_GATEWAY_2}   redis  127.0.0.1:6380   (discoverer, auth and 3 workers on the compose network)`,
  );
  const [executable, ...prefix] = command as [string, ...string[]];
  const child = spawn(executable, [...prefix, '-f', composeFile, 'up', '--build'], {
    stdio: 'inherit',
    cwd: REPO_ROOT,
  });
  writeStackState({
    mode: 'compose',
    pid: process.pid,
    gatewayAddress: GATEWAY,
    jwtSecret: LOCAL_STACK.jwtSecret,
    composeCommand: command,
    composeFile,
  });
  const stop = () => {
    console.log('\nstopping the stack');
    spawnSync(executable, [...prefix, '-f', composeFile, 'down'], { stdio: 'inherit', cwd: REPO_ROOT });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', () => {
    child.kill('SIGTERM');
    stop();
  });
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  const ready = Wait.forGrpcStatus(GATEWAY, UNROUTED_METHOD, 12)
    .withStartupTimeout(600_000)
    .withPollInterval(1_000);
  await Promise.race([
    ready.waitUntilReady().then(() => console.log(`stack ready: gateway ${GATEWAY}`)),
    exited,
  ]);
  const code = await exited;
  removeStackState();
  process.exit(code);
}

async function upLocal(reason: string, gateways: number, secrets: StackSecrets): Promise<void> {
  console.log(`mode: local processes (${reason})`);
  const logDir = join(STACK_DIR, 'logs');
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });

  let stack: StartedProcessStack | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the stack');
    // Workers restarted by the CLI's fault driver run detached from us; the state file knows them.
    const state = readStackState();
    await stack?.stop();
    if (state?.mode === 'local') {
      for (const worker of state.workers) if (isAlive(worker.pid)) signalGroup(worker.pid, 'SIGTERM');
    }
    removeStackState();
    console.log('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    stack = await new ProcessStack()
      .withFixedPorts({
        gateway: LOCAL_STACK.gatewayPort,
        discoverer: LOCAL_STACK.discovererPort,
        auth: LOCAL_STACK.authPort,
        redis: LOCAL_STACK.redisPort,
        admin: LOCAL_STACK.adminPort,
      })
      .withWorkers(LOCAL_STACK.workers)
      .withGateways(gateways)
      .withJwtSecret(LOCAL_STACK.jwtSecret)
      .withRetry(LOCAL_STACK.retryCount, LOCAL_STACK.retryTimeoutMs)
      .withSubscribeIntervalMs(LOCAL_STACK.subscribeIntervalMs)
      .withGatewayConfigFile(LOCAL_STACK.gatewayConfigFile)
      .secured(secrets)
      .withLogDir(logDir)
      .withProgress((line) => console.log(line))
      .start();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
  writeStackState(await localStackState(stack, process.pid));
  console.log(`logs: ${logDir}`);
  const addresses = stack.gatewayAddresses;
  const ready = addresses.length === 1 ? `gateway ${addresses[0]}` : `gateways ${addresses.join(', ')}`;
  console.log(`stack ready: ${ready} (Ctrl-C or \`make down\` stops it)`);
  const admins = addresses.map((_, i) => `http://127.0.0.1:${LOCAL_STACK.adminPort + i}/`);
  console.log(`admin page and /metrics: ${admins.join(', ')}`);

  // A worker exits after MyServiceShutdown (expected); any other service exiting ends the stack.
  for (const child of stack.processes()) {
    void child.exited.then((status) => {
      if (stopping) return;
      const how = describeExit(status);
      if (child.name.startsWith('worker-')) {
        console.log(`${child.name} ${how}`);
        return;
      }
      console.error(`${child.name} ${how}: stopping the stack (see ${child.spec.logFile})`);
      void stop(1);
    });
  }
}

const gateways = gatewayCount();
refuseIfRunning();
const secrets = readOrCreateSecretsFile(SECRETS_FILE);
console.log(
  `secrets: ${SECRETS_FILE} (mode 0600: DISCOVERER_TOKEN, REDIS_*_PASSWORD; delete it to rotate them)`,
);
const runtime = await probeContainerRuntime();
const compose = runtime.available ? composeCommand() : undefined;
if (compose !== undefined && existsSync(join(REPO_ROOT, 'docker-compose.yml'))) {
  await upWithCompose(compose, gateways, secrets);
} else {
  await upLocal(
    runtime.available ? 'a container runtime answers, but no docker compose command' : runtime.reason,
    gateways,
    secrets,
  );
}
