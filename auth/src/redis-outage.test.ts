import { createServer, type Server, type Socket } from 'node:net';
import { status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { getFreePort, type StartedRedis, startRedis, waitFor } from '@stickygw/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningAuthService, startAuthService } from './auth-service.js';
import type { AuthConfig } from './config/load-config.js';
import { createLogger } from './logger.js';
import { createAuthClient, login, loginFailure } from './test-support/auth-client.js';
import { type AuthTestStack, startAuthTestStack } from './test-support/auth-test-stack.js';

function config(redisUrl: string, seedTestUser: boolean): AuthConfig {
  return {
    port: 0,
    listenHost: '127.0.0.1',
    redisUrl,
    jwtSecret: 'outage-secret',
    tokenExpirationMs: 60_000,
    seedTestUser,
    logLevel: 'silent',
  };
}

async function timed<T>(action: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await action();
  return { value, ms: performance.now() - started };
}

const FAILED_TO_GET_USER = { code: status.INTERNAL, details: 'failed to get user' };

describe('auth service during a Redis outage', () => {
  let redis: StartedRedis;
  let admin: Redis;
  let client: MyServiceAPIClient;

  let stack: AuthTestStack;

  beforeAll(async () => {
    stack = await startAuthTestStack({ jwtSecret: 'outage-secret', seedTestUser: true });
    ({ redis, admin, client } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers INTERNAL promptly while Redis is down and recovers without a restart', async () => {
    await admin.set('external_user:alice', JSON.stringify({ password: 'pw', role: 'user' }));
    expect((await login(client, { username: 'alice', password: 'pw', session_id: 's' })).role).toBe('user');

    await redis.stop();
    const down = await timed(() =>
      loginFailure(client, { username: 'alice', password: 'pw', session_id: 's' }),
    );
    expect(down.value).toEqual(FAILED_TO_GET_USER);
    expect(down.ms).toBeLessThan(1_000);
    // Without a hard-coded branch TestUser lives in Redis too, so it shares the outage (README).
    expect(
      await loginFailure(client, { username: 'TestUser', password: 'TestPassword', session_id: 's' }),
    ).toEqual(FAILED_TO_GET_USER);
    // Validation does not need Redis and still answers first.
    expect(await loginFailure(client, { username: '', password: '', session_id: 's' })).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'username is required',
    });

    await redis.restart();
    // The restarted Redis is empty: TestUser comes back because it is seeded again on reconnection.
    const response = await waitFor(
      () => login(client, { username: 'TestUser', password: 'TestPassword', session_id: 's' }),
      { description: 'TestUser to log in again after the Redis restart', timeoutMs: 5_000 },
    );
    expect(response.role).toBe('admin');
    expect(await loginFailure(client, { username: 'alice', password: 'pw', session_id: 's' })).toEqual({
      code: status.PERMISSION_DENIED,
      details: 'invalid username or password',
    });
    await admin.set('external_user:alice', JSON.stringify({ password: 'pw', role: 'user' }));
    expect((await login(client, { username: 'alice', password: 'pw', session_id: 's' })).role).toBe('user');
  });

  it('answers INTERNAL within the command timeout while Redis stalls, then works again', async () => {
    await admin.set('external_user:bob', JSON.stringify({ password: 'pw', role: 'user' }));
    // Redis holds every client's commands for 2 s: connected but not answering.
    await admin.call('CLIENT', 'PAUSE', '2000', 'ALL');
    const stalled = await timed(() =>
      loginFailure(client, { username: 'bob', password: 'pw', session_id: 's' }),
    );
    expect(stalled.value).toEqual(FAILED_TO_GET_USER);
    expect(stalled.ms).toBeLessThan(1_800);
    const response = await waitFor(
      () => login(client, { username: 'bob', password: 'pw', session_id: 's' }),
      {
        description: 'bob to log in once Redis answers again',
        timeoutMs: 5_000,
      },
    );
    expect(response.role).toBe('user');
  });
});

describe('auth service with a Redis that never answers', () => {
  let silentServer: Server;
  const sockets = new Set<Socket>();
  let service: RunningAuthService;
  let client: MyServiceAPIClient;

  beforeAll(async () => {
    const port = await getFreePort();
    // Accepts connections and reads, but never replies: a hung Redis.
    silentServer = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.resume();
    });
    await new Promise<void>((resolve) => silentServer.listen(port, '127.0.0.1', resolve));
    service = await startAuthService(config(`redis://127.0.0.1:${port}`, false), createLogger('silent'));
    client = createAuthClient(service.port);
  });

  afterAll(async () => {
    client?.close();
    await service?.stop();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silentServer?.close(resolve));
  });

  it('answers INTERNAL "failed to get user" within the bounded timeouts', async () => {
    const result = await timed(() =>
      loginFailure(client, { username: 'alice', password: 'pw', session_id: 's' }),
    );
    expect(result.value).toEqual(FAILED_TO_GET_USER);
    expect(result.ms).toBeLessThan(2_500);
  });
});

describe('auth service started while Redis is down', () => {
  let redis: StartedRedis;
  let service: RunningAuthService;
  let client: MyServiceAPIClient;

  beforeAll(async () => {
    redis = await startRedis();
    await redis.stop();
  });

  afterAll(async () => {
    client?.close();
    await service?.stop();
    await redis?.stop();
  });

  it('starts promptly and seeds TestUser in the background once Redis is up', async () => {
    const started = await timed(() => startAuthService(config(redis.url, true), createLogger('silent')));
    service = started.value;
    expect(started.ms).toBeLessThan(1_500);
    client = createAuthClient(service.port);
    expect(
      await loginFailure(client, { username: 'TestUser', password: 'TestPassword', session_id: 's' }),
    ).toEqual(FAILED_TO_GET_USER);
    await redis.restart();
    const response = await waitFor(
      () => login(client, { username: 'TestUser', password: 'TestPassword', session_id: 's' }),
      { description: 'TestUser to be seeded once Redis is up', timeoutMs: 5_000 },
    );
    expect(response.role).toBe('admin');
  });
});
