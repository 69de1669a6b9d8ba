import { waitFor } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DiscovererFixture,
  registration,
  startDiscovererFixture,
} from './test-support/discoverer-fixture.js';

/** commandTimeout is 1 s; anything near it means a request waited for Redis instead of failing fast. */
const PROMPT_MS = 1_500;

let fx: DiscovererFixture;

beforeAll(async () => {
  fx = await startDiscovererFixture();
});
afterAll(async () => {
  await fx?.close();
});

const routes = [
  {
    name: 'POST /v1/register',
    request: { method: 'POST', url: '/v1/register', payload: registration({ instance_id: 'w-1' }) },
    message: 'Redis write key error',
  },
  {
    name: 'POST /v1/unregister/:id',
    request: { method: 'POST', url: '/v1/unregister/w-1' },
    message: 'Redis delete key error',
  },
  {
    name: 'GET /v1/instances',
    request: { method: 'GET', url: '/v1/instances' },
    message: 'Redis get keys error',
  },
  { name: 'GET /healthz', request: { method: 'GET', url: '/healthz' }, message: 'Redis ping error' },
] as const;

describe('Redis outage and recovery', () => {
  it('every Redis-backed route answers 500 promptly while Redis is down, and works again after a restart', async () => {
    await fx.redisServer.stop();

    for (const route of routes) {
      const started = performance.now();
      const res = await fx.app.inject(route.request);
      const elapsed = performance.now() - started;
      expect(res.statusCode, route.name).toBe(500);
      expect(res.json(), route.name).toEqual({
        error: { code: 'internal_server_error', message: route.message },
      });
      expect(elapsed, `${route.name} answered in ${elapsed.toFixed(0)} ms`).toBeLessThan(PROMPT_MS);
    }
    // Validation still answers without Redis.
    const invalid = await fx.app.inject({ method: 'POST', url: '/v1/register', payload: {} });
    expect(invalid.statusCode).toBe(400);

    await fx.redisServer.restart();
    await waitFor(async () => (await fx.app.inject({ method: 'GET', url: '/healthz' })).statusCode === 200, {
      description: 'the discoverer to reconnect to the restarted Redis',
      timeoutMs: 5_000,
    });

    const registered = await fx.app.inject(routes[0].request);
    expect(registered.statusCode).toBe(200);
    const listed = await fx.app.inject({ method: 'GET', url: '/v1/instances' });
    expect(listed.json()).toEqual({ instances: [{ instance_id: 'w-1', ipv4: '127.0.0.1', port: 5000 }] });
    expect((await fx.app.inject(routes[1].request)).statusCode).toBe(200);
    expect((await fx.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
  });

  it('a Redis that accepts but does not answer gives 500 after the command timeout, then recovers', async () => {
    await waitFor(async () => (await fx.app.inject({ method: 'GET', url: '/healthz' })).statusCode === 200, {
      description: 'Redis to be reachable before the test',
      timeoutMs: 5_000,
    });
    const info = await fx.inspect.info('server');
    const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGSTOP');
    try {
      const responses = await Promise.all(
        routes.map(async (route) => {
          const started = performance.now();
          const res = await fx.app.inject(route.request);
          return { route, res, elapsed: performance.now() - started };
        }),
      );
      for (const { route, res, elapsed } of responses) {
        expect(res.statusCode, route.name).toBe(500);
        expect(res.json().error.message, route.name).toBe(route.message);
        expect(elapsed, `${route.name} answered in ${elapsed.toFixed(0)} ms`).toBeLessThan(PROMPT_MS + 500);
      }
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(async () => (await fx.app.inject({ method: 'GET', url: '/healthz' })).statusCode === 200, {
      description: 'Redis to answer again after SIGCONT',
      timeoutMs: 5_000,
    });
    expect((await fx.app.inject(routes[0].request)).statusCode).toBe(200);
  });
});
