import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
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
  /**
   * TLS only (`--tls-port`, the plaintext port off): the server's PEM certificate and key; clients
   * are not asked for certificates; the certificate must name 127.0.0.1. `url` is then `rediss://`.
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
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
async function ping(port: number, ca: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket =
      ca === undefined ? connect({ host: '127.0.0.1', port }) : connectTls({ host: '127.0.0.1', port, ca });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once(ca === undefined ? 'connect' : 'secureConnect', () => socket.write('PING\r\n'));
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
      ...(options.tls === undefined
        ? ['--port', String(port)]
        : [
            '--port',
            '0',
            '--tls-port',
            String(port),
            '--tls-cert-file',
            options.tls.certFile,
            '--tls-key-file',
            options.tls.keyFile,
            '--tls-ca-cert-file',
            options.tls.caFile,
            '--tls-auth-clients',
            'no',
          ]),
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
  const ca = options.tls === undefined ? undefined : readFileSync(options.tls.caFile, 'utf8');
  const scheme = options.tls === undefined ? 'redis' : 'rediss';
  const host = '127.0.0.1';
  const awaitReady = () =>
    waitFor(() => ping(port, ca), { description: `redis-server on 127.0.0.1:${port}`, timeoutMs: 10_000 });
  await awaitReady();
  return {
    port,
    url:
      options.password === undefined
        ? `${scheme}://${host}:${port}`
        : `${scheme}://:${encodeURIComponent(options.password)}@${host}:${port}`,
    urlFor: (user, password) =>
      `${scheme}://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}`,
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
