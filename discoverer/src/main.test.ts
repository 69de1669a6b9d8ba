import { request } from 'node:http';
import {
  buildWorkspace,
  type ExitStatus,
  getFreePort,
  type ManagedProcess,
  type StartedRedis,
  startRedis,
} from '@stickygw/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDiscovererProcess } from './test-support/discoverer-process.js';

beforeAll(() => {
  buildWorkspace('discoverer');
});

/** Runs the entry point with a bad environment and returns its exit code and stderr. */
async function refusal(env: Record<string, string>): Promise<{ exit: ExitStatus; stderr: string }> {
  const proc = startDiscovererProcess(env);
  try {
    const exit = await proc.exited;
    return { exit, stderr: proc.stderr() };
  } finally {
    await proc.kill();
  }
}

describe('start-up refusals (node discoverer/dist/main.js)', () => {
  it.each([
    [{ SERVICE_PORT_HTTP: '8080' }, 'REDIS_ADDR is required'],
    [{ REDIS_ADDR: 'redis://127.0.0.1:6379' }, 'SERVICE_PORT_HTTP is required'],
    [
      { REDIS_ADDR: 'redis://127.0.0.1:6379', SERVICE_PORT_HTTP: 'http' },
      'invalid SERVICE_PORT_HTTP: "http" is not an integer',
    ],
    [
      { REDIS_ADDR: 'redis://127.0.0.1:6379', SERVICE_PORT_HTTP: '70000' },
      'invalid SERVICE_PORT_HTTP: 70000 is out of range 1..65535',
    ],
    [
      { REDIS_ADDR: 'http://127.0.0.1:6379', SERVICE_PORT_HTTP: '8080' },
      'invalid REDIS_ADDR: scheme must be redis:// or rediss://, got http://',
    ],
    [
      {
        REDIS_ADDR: 'redis://127.0.0.1:6379',
        SERVICE_PORT_HTTP: '8080',
        DISCOVERER_TOKEN: 'inline',
        DISCOVERER_TOKEN_FILE: '/nonexistent/token',
      },
      'DISCOVERER_TOKEN and DISCOVERER_TOKEN_FILE are both set: set only one of them',
    ],
    [
      {
        REDIS_ADDR: 'redis://127.0.0.1:6379',
        SERVICE_PORT_HTTP: '8080',
        DISCOVERER_TOKEN_FILE: '/nonexistent/token',
      },
      'DISCOVERER_TOKEN_FILE: cannot read /nonexistent/token: ENOENT',
    ],
  ])('%j → exit 1, "%s"', async (env, message) => {
    const { exit, stderr } = await refusal(env);
    expect(exit).toEqual({ code: 1, signal: null });
    expect(stderr).toContain(message);
  });

  it('exits 1 naming REDIS_ADDR when Redis does not answer', async () => {
    const deadPort = await getFreePort();
    const started = performance.now();
    const { exit, stderr } = await refusal({
      REDIS_ADDR: `redis://:hunter2@127.0.0.1:${deadPort}`,
      SERVICE_PORT_HTTP: String(await getFreePort()),
    });
    expect(exit).toEqual({ code: 1, signal: null });
    expect(stderr).toContain(`cannot reach Redis at REDIS_ADDR=redis://:***@127.0.0.1:${deadPort}`);
    expect(stderr).toContain('ECONNREFUSED');
    expect(stderr).not.toContain('hunter2');
    expect(performance.now() - started).toBeLessThan(6_000);
  });

  it('exits 1 when the port is taken', async () => {
    const redis = await startRedis();
    try {
      const { exit, stderr } = await refusal({
        REDIS_ADDR: redis.url,
        SERVICE_PORT_HTTP: String(redis.port),
      });
      expect(exit).toEqual({ code: 1, signal: null });
      expect(stderr).toContain(`cannot listen on 127.0.0.1:${redis.port}`);
    } finally {
      await redis.stop();
    }
  });
});

describe('a running discoverer, through real HTTP', () => {
  let redis: StartedRedis;
  let proc: ManagedProcess;
  let base: string;

  beforeAll(async () => {
    redis = await startRedis();
    const port = await getFreePort();
    proc = startDiscovererProcess({ REDIS_ADDR: redis.url, SERVICE_PORT_HTTP: String(port) });
    expect(await proc.listeningPort()).toBe(port);
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await proc?.kill();
    await redis?.stop();
  });

  it('registers, lists, unregisters and reports health with fetch', async () => {
    const body = {
      instance_id: 'worker-7',
      service_type: 'grpcserver',
      ipv4: '127.0.0.1',
      port: 5007,
      timestamp: new Date().toISOString(),
      ttl_ms: 60_000,
    };
    const registered = await fetch(`${base}/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
    });
    expect(registered.status).toBe(200);
    expect(await registered.text()).toBe('');

    const listed = await fetch(`${base}/v1/instances`);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual({
      instances: [{ instance_id: 'worker-7', ipv4: '127.0.0.1', port: 5007 }],
    });

    const invalid = await fetch(`${base}/v1/register`, { method: 'POST' });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({
      error: { code: 'bad_parameter', message: 'instance_id is required' },
    });

    const unregistered = await fetch(`${base}/v1/unregister/${encodeURIComponent('worker-7')}`, {
      method: 'POST',
    });
    expect(unregistered.status).toBe(200);
    expect(await (await fetch(`${base}/v1/instances`)).json()).toEqual({ instances: [] });

    const health = await fetch(`${base}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const openapi = await fetch(`${base}/openapi.yaml`);
    expect(openapi.status).toBe(200);
    expect(await openapi.text()).toMatch(/^openapi: 3\./);
  });

  it('refuses to register "..", yet unregisters a legacy ".." entry sent as %2E%2E on the wire', async () => {
    const registered = await fetch(`${base}/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        instance_id: '..',
        service_type: 's',
        ipv4: '10.0.0.1',
        port: 1,
        ttl_ms: 60_000,
      }),
    });
    expect(registered.status).toBe(400);
    expect(await registered.json()).toEqual({
      error: { code: 'bad_parameter', message: 'instance_id must not be "." or ".."' },
    });
    // An entry written before ".." was refused (fetch would normalize its unregister URL away).
    const legacy = new Redis(redis.url);
    try {
      await legacy.set('instance:..', JSON.stringify({ instance_id: '..', ipv4: '10.0.0.1', port: 1 }));
    } finally {
      legacy.disconnect();
    }
    expect(await (await fetch(`${base}/v1/instances`)).json()).toEqual({
      instances: [{ instance_id: '..', ipv4: '10.0.0.1', port: 1 }],
    });
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${base}/v1/unregister/%2E%2E`,
        { method: 'POST', path: '/v1/unregister/%2E%2E' },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    expect(await (await fetch(`${base}/v1/instances`)).json()).toEqual({ instances: [] });
  });

  it('logs JSON lines and stops gracefully with exit 0 on SIGTERM', async () => {
    const line = proc
      .stdout()
      .split('\n')
      .find((l) => l.includes('"msg":"listening"'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 30, msg: 'listening', host: '127.0.0.1' });
    proc.signal('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.stdout()).toContain('"msg":"stopped"');
  });
});
