import { createServer } from 'node:net';
import { status } from '@grpc/grpc-js';
import { FakeDiscoverer, type ManagedProcess, waitFor } from '@stickygw/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signToken } from './test-support/tokens.js';
import { callMetadata, createWorkerClient, echo, shutdown } from './test-support/worker-client.js';
import { startWorkerProcess } from './test-support/worker-process.js';

const SECRET = 'main-test-secret';

let discoverer: FakeDiscoverer;
const workers: ManagedProcess[] = [];

function baseEnv(): Record<string, string> {
  return {
    SERVICE_PORT_GRPC: '0',
    MY_DISCOVERER_URL: `${discoverer.url}/`,
    INSTANCE_ID: 'worker-main-test',
    DISCOVERABLE_HOST: '127.0.0.1',
    JWT_SECRET: SECRET,
    REGISTRATION_HEARTBEAT_INTERVAL_MS: '60000',
    SUBSCRIBE_INTERVAL_MS: '50',
  };
}

function start(env: Record<string, string>): ManagedProcess {
  const worker = startWorkerProcess(env);
  workers.push(worker);
  return worker;
}

async function authed(sessionId: string) {
  return callMetadata(await signToken({ secret: SECRET, sessionId }), sessionId);
}

beforeEach(async () => {
  discoverer = await FakeDiscoverer.start();
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.kill()));
  await discoverer.stop();
});

describe('node service/dist/main.js', () => {
  it('listens on a free port with SERVICE_PORT_GRPC=0 and registers that port', async () => {
    const worker = start(baseEnv());
    const port = await worker.listeningPort();
    expect(port).toBeGreaterThan(0);
    expect(await worker.waitForJsonLine((log) => log.msg === 'listening')).toMatchObject({
      port,
      instanceId: 'worker-main-test',
    });

    const request = await waitFor(() => discoverer.requests[0], { description: 'the registration' });
    expect(request.path).toBe('/v1/register');
    expect(request.body).toMatchObject({
      instance_id: 'worker-main-test',
      service_type: 'grpcserver',
      ipv4: '127.0.0.1',
      port,
      ttl_ms: 300_000,
    });

    const client = createWorkerClient(port);
    try {
      const result = await echo(client, 'hello', await authed('s1'));
      expect(result.ok && result.value).toMatchObject({
        pod_name: 'worker-main-test',
        server_session_id: 's1',
      });
    } finally {
      client.close();
    }
  });

  it('exits 0 after answering a successful MyServiceShutdown, without unregistering', async () => {
    const worker = start(baseEnv());
    const port = await worker.listeningPort();
    await waitFor(() => discoverer.requests.length > 0, { description: 'the registration' });
    const client = createWorkerClient(port);
    try {
      expect((await echo(client, 'v', await authed('s1'))).ok).toBe(true);
      expect(await shutdown(client, await authed('s1'))).toEqual({
        ok: true,
        value: {
          pod_name: 'worker-main-test',
          server_session_id: 's1',
          client_session_id: 's1',
          index: 0,
          server_method: 'MyServiceShutdown',
        },
      });
      expect(await worker.exited).toEqual({ code: 0, signal: null });
    } finally {
      client.close();
    }
    expect(discoverer.requests.every((request) => request.path === '/v1/register')).toBe(true);
  });

  it('exits 0 after MyServiceShutdown even while a MyServiceSubscribe stream stays open', async () => {
    const worker = start(baseEnv());
    const client = createWorkerClient(await worker.listeningPort());
    try {
      const stream = client.MyServiceSubscribe({ value: 'v' }, await authed('s1'));
      const streamEnded = new Promise<number>((resolve) => {
        stream.on('error', (error: { code: number }) => resolve(error.code));
        stream.on('end', () => resolve(status.OK));
      });
      stream.on('data', () => {});
      await worker.waitForJsonLine((log) => log.msg === 'session bound', {
        description: 'the session to bind',
      });
      expect((await shutdown(client, await authed('s1'))).ok).toBe(true);
      expect(await worker.exited).toEqual({ code: 0, signal: null });
      expect(await streamEnded).not.toBe(status.OK);
    } finally {
      client.close();
    }
  });

  it('keeps running after a refused MyServiceShutdown', async () => {
    const worker = start(baseEnv());
    const client = createWorkerClient(await worker.listeningPort());
    try {
      expect(await shutdown(client, await authed('s1'))).toMatchObject({
        ok: false,
        code: status.PERMISSION_DENIED,
        message: 'Server session is not set',
      });
      expect((await echo(client, 'v', await authed('s1'))).ok).toBe(true);
    } finally {
      client.close();
    }
  });

  it('exits 0 on SIGTERM without unregistering', async () => {
    const worker = start(baseEnv());
    await worker.listeningPort();
    await waitFor(() => discoverer.requests.length > 0, { description: 'the registration' });
    worker.signal('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(discoverer.requests.map((request) => request.path)).toEqual(['/v1/register']);
  });

  it('exits 0 on SIGINT', async () => {
    const worker = start(baseEnv());
    await worker.listeningPort();
    worker.signal('SIGINT');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
  });

  describe('refuses bad configuration with exit code 1 and the reference message on stderr', () => {
    it.each([
      [{ SERVICE_PORT_GRPC: '70000' }, 'SERVICE_PORT_GRPC must be a valid port number (1-65535), got: 70000'],
      [{ MY_DISCOVERER_URL: '' }, 'MY_DISCOVERER_URL is required but not set'],
      [{ INSTANCE_ID: '' }, 'HOSTNAME is required but not set'],
      [{ DISCOVERABLE_HOST: 'worker.local' }, 'DISCOVERABLE_HOST must be an IPv4 address, got: worker.local'],
      [{ REGISTRATION_TTL_MS: '600001' }, 'REGISTRATION_TTL_MS must be between 1 and 600000, got: 600001'],
      [
        { REGISTRATION_HEARTBEAT_INTERVAL_MS: '0' },
        'REGISTRATION_HEARTBEAT_INTERVAL_MS must be greater than 0, got: 0',
      ],
      [{ JWT_SECRET: ' ' }, 'JWT_SECRET is required but not set'],
      [{ SUBSCRIBE_INTERVAL_MS: 'fast' }, 'SUBSCRIBE_INTERVAL_MS must be greater than 0, got: fast'],
    ])('%j', async (overrides, message) => {
      const worker = start({ ...baseEnv(), ...overrides });
      expect(await worker.exited).toEqual({ code: 1, signal: null });
      expect(worker.stderr().split('\n')[0]).toBe(`Configuration error: ${message}`);
      expect(worker.stdout()).toBe('');
    });

    it('names INSTANCE_ID in a hint when neither it nor HOSTNAME is set', async () => {
      const worker = start({ ...baseEnv(), INSTANCE_ID: '' });
      expect(await worker.exited).toEqual({ code: 1, signal: null });
      expect(worker.stderr()).toBe(
        'Configuration error: HOSTNAME is required but not set\n' +
          'Set INSTANCE_ID (preferred) or HOSTNAME to the id this instance registers under.\n',
      );
    });

    it('falls back to HOSTNAME', async () => {
      const { INSTANCE_ID: _omitted, ...env } = baseEnv();
      const worker = start({ ...env, HOSTNAME: 'c0ffee' });
      await worker.listeningPort();
      expect(await worker.waitForJsonLine((log) => log.msg === 'listening')).toMatchObject({
        instanceId: 'c0ffee',
      });
    });
  });

  it('exits 1 when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const worker = start({ ...baseEnv(), SERVICE_PORT_GRPC: String(port) });
      expect(await worker.exited).toEqual({ code: 1, signal: null });
      expect(worker.stderr()).toContain(`Could not listen on 127.0.0.1:${port}`);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
