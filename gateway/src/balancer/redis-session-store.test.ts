import { type StartedRedis, startRedis, waitFor } from '@stickygw/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Endpoint, makeEndpoint } from '../cluster/endpoint.js';
import { GatewayError } from '../grpc/gateway-error.js';
import { Status } from '../grpc/status.js';
import { createLogger } from '../observability/logger.js';
import { type RedisSessionStore, RedisSessionStores, UNLISTED_RELEASE_MS } from './redis-session-store.js';

const logger = createLogger({ level: 'silent' });
const endpoints: readonly Endpoint[] = Array.from({ length: 10 }, (_, i) =>
  makeEndpoint(`w${i}`, '127.0.0.1', 5000 + i),
);

let redis: StartedRedis;
let admin: Redis;
let opened: RedisSessionStores[] = [];

/** One gateway process's view: its own connections and local copy. */
async function gatewayStore(cluster = 'svc', recoveryWindowMs = 100): Promise<RedisSessionStore> {
  const stores = new RedisSessionStores(redis.url, logger, recoveryWindowMs);
  opened.push(stores);
  const store = stores.storeFor(cluster);
  await stores.start();
  return store;
}

/** Scripts Redis ran since the last `CONFIG RESETSTAT`: one per claim round trip. */
async function scriptCalls(): Promise<number> {
  const stats = await admin.info('commandstats');
  let calls = 0;
  for (const match of stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(match[1]);
  return calls;
}

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  admin.on('error', () => undefined);
});

afterAll(async () => {
  admin.disconnect();
  await redis.stop();
});

beforeEach(async () => {
  await admin.flushall();
});

afterEach(() => {
  for (const stores of opened) stores.close();
  opened = [];
});

describe('RedisSessionStore', () => {
  it('claims a free instance in the given order and keeps the binding under the cluster hash tag', async () => {
    const store = await gatewayStore();
    await expect(store.claim('s1', endpoints, 3)).resolves.toBe('w3');
    expect(store.endpointOf('s1')).toBe('w3');
    expect(store.keyOf('w3')).toBe('s1');
    expect(await admin.hgetall('stickygw:{svc}:bindings')).toEqual({ s1: 'w3' });
    expect(await admin.hgetall('stickygw:{svc}:leases')).toEqual({ w3: 's1' });
  });

  it('a session first bound through one gateway goes to the same instance through another', async () => {
    const a = await gatewayStore();
    const b = await gatewayStore();
    const bound = await a.claim('s1', endpoints, 0);
    expect(b.endpointOf('s1')).toBeUndefined();
    await expect(b.claim('s1', endpoints, 5)).resolves.toBe(bound);
    expect(b.endpointOf('s1')).toBe(bound);
  });

  it('two gateways racing for 40 new sessions over 10 instances never share one', async () => {
    const a = await gatewayStore();
    const b = await gatewayStore();
    const claims = Array.from({ length: 40 }, (_, i) =>
      (i % 2 === 0 ? a : b).claim(`s${i}`, endpoints, i % endpoints.length),
    );
    const bound = (await Promise.all(claims)).filter((id) => id !== undefined);
    expect(bound).toHaveLength(10);
    expect(new Set(bound).size).toBe(10);
    expect(await admin.hlen('stickygw:{svc}:bindings')).toBe(10);
  });

  it('sends the first 32 candidates, and the rest only when another gateway leases all 32', async () => {
    const many = Array.from({ length: 100 }, (_, i) => makeEndpoint(`m${i}`, '127.0.0.1', 6000 + i));
    const a = await gatewayStore();
    const b = await gatewayStore();
    // b leases m0..m31, which a still believes free.
    for (let i = 0; i < 32; i++) await b.claim(`b${i}`, many, i);
    await admin.config('RESETSTAT');
    await expect(a.claim('a1', many, 0)).resolves.toBe('m32');
    expect(await scriptCalls()).toBe(2);
    // A batch with a free candidate is one trip.
    await admin.config('RESETSTAT');
    await expect(a.claim('a2', many, 40)).resolves.toBe('m40');
    expect(await scriptCalls()).toBe(1);
    // Every instance leased: none free.
    for (let i = 0; i < 100; i++) await b.claim(`fill${i}`, many, i);
    await expect(a.claim('a3', many, 0)).resolves.toBeUndefined();
  });

  it('clusters are apart: one instance id may be bound once in each', async () => {
    const a = await gatewayStore('one');
    const b = await gatewayStore('two');
    await expect(a.claim('s1', endpoints.slice(0, 1), 0)).resolves.toBe('w0');
    await expect(b.claim('s2', endpoints.slice(0, 1), 0)).resolves.toBe('w0');
  });

  it('a failure seen by one gateway releases the binding and every other gateway drops its copy', async () => {
    const a = await gatewayStore();
    const b = await gatewayStore();
    const bound = (await a.claim('s1', endpoints, 0)) as string;
    await b.claim('s1', endpoints, 0);
    a.unbindEndpoint(bound, 'failed');
    expect(a.endpointOf('s1')).toBeUndefined();
    await waitFor(() => b.endpointOf('s1') === undefined, { description: 'b dropped its copy' });
    expect(await admin.hlen('stickygw:{svc}:bindings')).toBe(0);
    expect(await admin.hlen('stickygw:{svc}:leases')).toBe(0);
  });

  it('compare-and-delete: a binding that moved on is not released', async () => {
    const a = await gatewayStore();
    await a.claim('s1', endpoints.slice(1, 2), 0);
    a.unbindIfBoundTo('s1', 'w0');
    await admin.ping();
    await waitFor(async () => (await admin.hget('stickygw:{svc}:bindings', 's1')) === 'w1', {
      description: 'binding kept',
    });
    expect(a.endpointOf('s1')).toBe('w1');
    // An instance that left discovery and was never bound here is left to the gateway that bound it.
    const b = await gatewayStore();
    b.unbindEndpoint('w1', 'left');
    await admin.ping();
    expect(await admin.hget('stickygw:{svc}:leases', 'w1')).toBe('s1');
  });

  it('a binding to an instance this gateway does not list stays for all, until unlisted for the retention', async () => {
    const a = await gatewayStore();
    const b = await gatewayStore();
    await a.claim('s1', endpoints.slice(4, 5), 0);
    // b's discovery lags (or b set w4 aside): it forgets its own copy, never the shared binding.
    await b.claim('s1', endpoints.slice(0, 3), 0);
    b.unbindIfBoundTo('s1', 'w4');
    b.unbindIfBoundTo('s1', 'w4');
    await admin.ping();
    expect(await admin.hget('stickygw:{svc}:bindings', 's1')).toBe('w4');
    expect(await admin.hget('stickygw:{svc}:leases', 'w4')).toBe('s1');
    expect(b.endpointOf('s1')).toBeUndefined();
    expect(a.endpointOf('s1')).toBe('w4');
    // Still unlisted after the retention: the instance is gone for good, and b releases it for all.
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + UNLISTED_RELEASE_MS);
    try {
      b.unbindIfBoundTo('s1', 'w4');
    } finally {
      clock.mockRestore();
    }
    await waitFor(async () => (await admin.hget('stickygw:{svc}:bindings', 's1')) === null, {
      description: 'binding released',
    });
    await waitFor(() => a.endpointOf('s1') === undefined, {
      description: 'the other gateway drops its copy',
    });
  });

  it('re-asserts its bindings after FLUSHALL; first writer wins, the loser drops its copy', async () => {
    const a = await gatewayStore();
    const b = await gatewayStore();
    await a.claim('s1', endpoints, 0);
    await b.claim('s2', endpoints, 1);
    await admin.flushall();
    // While the store was empty, another gateway bound s3 to s2's instance.
    const c = await gatewayStore();
    await c.claim('s3', endpoints.slice(1, 2), 0);
    await a.reassert();
    await b.reassert();
    expect(await admin.hgetall('stickygw:{svc}:bindings')).toEqual({ s1: 'w0', s3: 'w1' });
    expect(b.endpointOf('s2')).toBeUndefined();
    expect(a.endpointOf('s1')).toBe('w0');
  });

  it('Redis found without its data: new sessions wait until the bindings are re-asserted', async () => {
    const a = await gatewayStore('svc', 1_000);
    const b = await gatewayStore('svc', 1_000);
    await a.claim('s1', endpoints, 0);
    await admin.flushall();
    // b has never seen s1: without the window it would hand w0, which a still holds, to s2.
    const started = performance.now();
    const s2 = b.claim('s2', endpoints, 0);
    await waitFor(async () => (await admin.pttl('stickygw:{svc}:recovering')) > 0, {
      description: 'recovery window open',
    });
    // a reconnects and re-asserts within the window; a bound session is answered meanwhile.
    await a.reassert();
    await expect(b.claim('s1', endpoints, 3)).resolves.toBe('w0');
    await expect(s2).resolves.toBe('w1');
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(await admin.hgetall('stickygw:{svc}:bindings')).toEqual({ s1: 'w0', s2: 'w1' });
    // The window opens once per data set: the next new session does not wait.
    const next = performance.now();
    await expect(b.claim('s3', endpoints, 0)).resolves.toBe('w2');
    expect(performance.now() - next).toBeLessThan(500);
  });

  it('releases bindings unused for the idle timeout, whichever gateway used them', async () => {
    const a = await gatewayStore();
    const b = await gatewayStore();
    await a.claim('s1', endpoints, 0);
    await a.claim('s2', endpoints, 1);
    a.touch('s1');
    a.touch('s2');
    await new Promise((resolve) => setTimeout(resolve, 60));
    b.touch('s2');
    b.releaseIdle(50);
    a.releaseIdle(50);
    await waitFor(async () => (await admin.hlen('stickygw:{svc}:bindings')) === 1, {
      description: 'the idle binding released',
    });
    expect(await admin.hgetall('stickygw:{svc}:bindings')).toEqual({ s2: 'w1' });
    await waitFor(() => a.endpointOf('s1') === undefined, { description: 'a dropped its copy' });
  });
});

describe('RedisSessionStore when Redis goes away', () => {
  it('keeps serving bound sessions, refuses new ones promptly, and recovers by itself, empty or not', async () => {
    const a = await gatewayStore();
    const b = await gatewayStore();
    await a.claim('s1', endpoints, 0);
    await b.claim('s2', endpoints, 1);
    await redis.stop();

    expect(a.endpointOf('s1')).toBe('w0');
    const started = performance.now();
    const refused = await a.claim('s3', endpoints, 2).catch((err: unknown) => err);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(refused).toBeInstanceOf(GatewayError);
    expect((refused as GatewayError).code).toBe(Status.UNAVAILABLE);
    expect((refused as GatewayError).message).toMatch(/^session store unavailable/);

    // Back, empty: each gateway writes its bindings back without anyone acting.
    await redis.restart();
    await waitFor(async () => (await admin.hlen('stickygw:{svc}:bindings').catch(() => 0)) === 2, {
      description: 'bindings re-asserted',
      timeoutMs: 10_000,
    });
    expect(await admin.hgetall('stickygw:{svc}:bindings')).toEqual({ s1: 'w0', s2: 'w1' });
    await waitFor(async () => (await a.claim('s3', endpoints, 2).catch(() => 'refused')) === 'w2', {
      description: 'new sessions served again',
      timeoutMs: 10_000,
    });
  });
});
