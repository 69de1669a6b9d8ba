import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { getFreePort } from './free-port.js';
import { ManagedProcess, type ProcessSpec } from './managed-process.js';
import { waitFor } from './wait-for.js';

/** A real redis-server process on a free loopback port, without persistence. */
export interface StartedRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL after 2 s). Idempotent. */
  stop(): Promise<void>;
  /** Starts the server again on the same port (for outage-and-recovery tests). Data is not kept. */
  restart(): Promise<void>;
}

function redisServerBinary(): string {
  return process.env.REDIS_SERVER_BIN ?? 'redis-server';
}

/** True when a `redis-server` binary can be executed on this machine. */
function hasRedisServer(): boolean {
  const result = spawnSync(redisServerBinary(), ['--version'], { stdio: 'ignore' });
  return result.status === 0;
}

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** redis-server in the foreground on `127.0.0.1:<port>`, without persistence. */
export function redisServerSpec(port: number): ProcessSpec {
  return {
    name: 'redis-server',
    command: redisServerBinary(),
    args: [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
  };
}

function spawnRedis(port: number): ManagedProcess {
  if (!hasRedisServer()) {
    throw new Error(
      'redis-server is not installed: run `make test` as root (it installs it with apt-get) or `apt-get install redis-server`',
    );
  }
  return ManagedProcess.start(redisServerSpec(port));
}

const STOP_GRACE_MS = 2_000;

/** Starts redis-server on a free port and waits until it answers PING. */
export async function startRedis(): Promise<StartedRedis> {
  const port = await getFreePort();
  let child = spawnRedis(port);
  const awaitReady = () =>
    waitFor(() => ping(port), { description: `redis-server on 127.0.0.1:${port}`, timeoutMs: 10_000 });
  await awaitReady();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await child.stop(STOP_GRACE_MS);
    },
    restart: async () => {
      await child.stop(STOP_GRACE_MS);
      child = spawnRedis(port);
      await awaitReady();
    },
  };
}
