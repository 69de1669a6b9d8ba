import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from './free-port.js';
import { ManagedProcess, type ProcessSpec } from './managed-process.js';
import { waitFor } from './wait-for.js';

/** How a test Redis checks its clients. */
export interface RedisServerOptions {
  /** `requirepass`: the password of the `default` user, who may do everything. */
  readonly password?: string;
  /**
   * ACL rules for more users (`user <name> on ><password> ~<keys> ...`, one per line), loaded from an
   * ACL file; the `default` user is written before them (with `password`, or none).
   */
  readonly acl?: string;
}

/** A real redis-server process on a free loopback port, without persistence. */
export interface StartedRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`, with `:<password>@` when the default user has one. */
  readonly url: string;
  /** `redis://<user>:<password>@127.0.0.1:<port>`: the URL a service with its own ACL user is given. */
  urlFor(user: string, password: string): string;
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

/** Up, whether or not it wants a password first. */
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
    socket.once('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

/**
 * redis-server in the foreground on `127.0.0.1:<port>`, without persistence; with `options`, with a
 * password (`--requirepass`) or an ACL file (written to a fresh temporary directory).
 */
export function redisServerSpec(port: number, options: RedisServerOptions = {}): ProcessSpec {
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
      ...authArgs(options),
    ],
  };
}

function authArgs({ password, acl }: RedisServerOptions): string[] {
  if (acl === undefined) return password === undefined ? [] : ['--requirepass', password];
  const file = join(mkdtempSync(join(tmpdir(), 'redis-acl-')), 'users.acl');
  const defaultUser = `user default on ${password === undefined ? 'nopass' : `>${password}`} ~* &* +@all`;
  writeFileSync(file, `${defaultUser}\n${acl.trim()}\n`, { mode: 0o600 });
  return ['--aclfile', file];
}

function spawnRedis(port: number, options: RedisServerOptions): ManagedProcess {
  if (!hasRedisServer()) {
    throw new Error(
      'redis-server is not installed: run `make test` as root (it installs it with apt-get) or `apt-get install redis-server`',
    );
  }
  return ManagedProcess.start(redisServerSpec(port, options));
}

const STOP_GRACE_MS = 2_000;

/** Starts redis-server on a free port and waits until it answers PING (or asks for a password). */
export async function startRedis(options: RedisServerOptions = {}): Promise<StartedRedis> {
  const port = await getFreePort();
  let child = spawnRedis(port, options);
  const awaitReady = () =>
    waitFor(() => ping(port), { description: `redis-server on 127.0.0.1:${port}`, timeoutMs: 10_000 });
  await awaitReady();
  return {
    port,
    url:
      options.password === undefined
        ? `redis://127.0.0.1:${port}`
        : `redis://:${encodeURIComponent(options.password)}@127.0.0.1:${port}`,
    urlFor: (user, password) =>
      `redis://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    stop: async () => {
      await child.stop(STOP_GRACE_MS);
    },
    restart: async () => {
      await child.stop(STOP_GRACE_MS);
      child = spawnRedis(port, options);
      await awaitReady();
    },
  };
}
