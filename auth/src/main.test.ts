import { createServer, type Server } from 'node:net';
import { getFreePort, ManagedProcess, type StartedRedis, startRedis } from '@stickygw/testkit';
import { jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthClient, healthCheck, login } from './test-support/auth-client.js';
import { distFile } from './test-support/dist-file.js';

// These tests run the compiled service (`node auth/dist/main.js`), as deployments and the other
// workspaces' harnesses do; `make test` builds before testing.
const main = () => distFile('main.js');

/** The compiled service with only `env` (plus PATH and the like) in its environment. */
function runAuth(env: Record<string, string>): ManagedProcess {
  return ManagedProcess.start({ name: 'auth', command: process.execPath, args: [main()], env });
}

describe.concurrent('node auth/dist/main.js refuses bad configuration with exit code 1', () => {
  // Every message has its unit test in config/load-config.test.ts; these prove the process wiring
  // (a stderr line per problem, exit code, the reference's check order).
  it.each([
    [{}, 'JWT_SECRET is required and must not be empty'],
    [
      { TOKEN_EXPIRATION: 'soon' },
      'invalid TOKEN_EXPIRATION: time: invalid duration "soon"\nJWT_SECRET is required and must not be empty',
    ],
    [
      { JWT_SECRET: 's', SERVICE_PORT_GRPC: '70000' },
      'invalid SERVICE_PORT_GRPC: must be in 1..65535, got "70000"',
    ],
    [
      { JWT_SECRET: 's', REDIS_ADDR: 'http://localhost:6379' },
      'cant parse redis url: invalid URL scheme: http',
    ],
  ])('%j → %s', async (env, message) => {
    const auth = runAuth(env);
    try {
      expect(await auth.waitForExit()).toEqual({ code: 1, signal: null });
      expect(auth.stderr()).toBe(`${message}\n`);
    } finally {
      await auth.kill();
    }
  });

  it('exits 1 when the port is taken', async () => {
    const port = await getFreePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    const auth = runAuth({
      JWT_SECRET: 's',
      SERVICE_PORT_GRPC: String(port),
      REDIS_ADDR: `redis://127.0.0.1:${await getFreePort()}`,
      AUTH_SEED_TEST_USER: 'false',
    });
    try {
      expect((await auth.waitForExit()).code).toBe(1);
      expect(auth.stderr()).toMatch(new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: `));
    } finally {
      await auth.kill();
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('node auth/dist/main.js with valid configuration', () => {
  let redis: StartedRedis;
  const started: ManagedProcess[] = [];

  async function startAuth(env: Record<string, string>): Promise<{ auth: ManagedProcess; port: number }> {
    const port = await getFreePort();
    const auth = runAuth({ SERVICE_PORT_GRPC: String(port), REDIS_ADDR: redis.url, ...env });
    started.push(auth);
    await auth.waitForJsonLine((line) => line.msg === 'listening' && line.port === port);
    return { auth, port };
  }

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await Promise.all(started.map((auth) => auth.kill()));
    await redis?.stop();
  });

  it('serves Login for the seeded TestUser and health, then exits 0 on SIGTERM', async () => {
    const { auth, port } = await startAuth({ JWT_SECRET: '  shared-secret  ', TOKEN_EXPIRATION: '90s' });
    expect(await healthCheck(port)).toBe('SERVING');
    const client = createAuthClient(port);
    try {
      const response = await login(client, {
        username: 'TestUser',
        password: 'TestPassword',
        session_id: 'sess',
      });
      // The secret is trimmed, as the gateway and the workers do.
      const { payload } = await jwtVerify(response.token, new TextEncoder().encode('shared-secret'), {
        algorithms: ['HS256'],
      });
      expect(payload).toMatchObject({ login: 'TestUser', role: 'admin', session_id: 'sess' });
      expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(90);

      auth.signal('SIGTERM');
      expect(await auth.waitForExit()).toEqual({ code: 0, signal: null });
      expect(auth.stdout()).not.toContain('TestPassword');
      expect(auth.stdout()).not.toContain(response.token);
      expect(auth.stdout()).not.toContain('shared-secret');
    } finally {
      client.close();
    }
  });

  it('exits 0 on SIGINT', async () => {
    const { auth } = await startAuth({ JWT_SECRET: 's', AUTH_SEED_TEST_USER: 'false' });
    auth.signal('SIGINT');
    expect(await auth.waitForExit()).toEqual({ code: 0, signal: null });
  });
});
