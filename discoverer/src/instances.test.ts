import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type DiscovererFixture,
  registration,
  startDiscovererFixture,
} from './test-support/discoverer-fixture.js';

let fx: DiscovererFixture;

beforeAll(async () => {
  fx = await startDiscovererFixture();
});
afterAll(async () => {
  await fx?.close();
});
beforeEach(async () => {
  await fx.inspect.flushall();
});

async function register(overrides: Record<string, unknown>) {
  const res = await fx.app.inject({ method: 'POST', url: '/v1/register', payload: registration(overrides) });
  expect(res.statusCode).toBe(200);
}

async function listInstances(): Promise<Array<{ instance_id: string; ipv4: string; port: number }>> {
  const res = await fx.app.inject({ method: 'GET', url: '/v1/instances' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return res.json().instances;
}

function unregister(encodedId: string, extra: { headers?: Record<string, string>; payload?: string } = {}) {
  return fx.app.inject({ method: 'POST', url: `/v1/unregister/${encodedId}`, ...extra });
}

/** Calls per command since the last CONFIG RESETSTAT, from INFO commandstats. */
async function commandCalls(): Promise<Record<string, number>> {
  const info = await fx.inspect.info('commandstats');
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm))
    calls[match[1] as string] = Number(match[2]);
  return calls;
}

describe('GET /v1/instances', () => {
  it('an empty registry answers 200 {"instances":[]} (the reference answered 404)', async () => {
    const res = await fx.app.inject({ method: 'GET', url: '/v1/instances' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('{"instances":[]}');
  });

  it('lists every registered instance with exactly instance_id, ipv4 and port', async () => {
    await register({ instance_id: 'a', ipv4: '10.0.0.1', port: 5000 });
    await register({ instance_id: 'b', ipv4: '10.0.0.2', port: 5001, service_type: 'other' });
    const instances = await listInstances();
    expect(instances.sort((x, y) => x.instance_id.localeCompare(y.instance_id))).toEqual([
      { instance_id: 'a', ipv4: '10.0.0.1', port: 5000 },
      { instance_id: 'b', ipv4: '10.0.0.2', port: 5001 },
    ]);
  });

  it('lists 1,200 instances across SCAN pages with one MGET per page (no KEYS, no GET per key)', async () => {
    const ids = Array.from({ length: 1_200 }, (_, i) => `w-${i}`);
    const pipeline = fx.inspect.pipeline();
    // Unrelated keys must not be listed (the auth service shares this Redis).
    pipeline.set('external_user:alice', '{"password":"x","role":"user"}');
    for (const id of ids) {
      const value = JSON.stringify({
        instance_id: id,
        service_type: 's',
        ipv4: '10.1.0.1',
        port: 5000,
        ttl_ms: 60_000,
      });
      pipeline.set(`instance:${id}`, value, 'PX', 60_000);
    }
    await pipeline.exec();
    await fx.inspect.config('RESETSTAT');

    const instances = await listInstances();

    const calls = await commandCalls();
    expect(instances).toHaveLength(1_200);
    expect(new Set(instances.map((i) => i.instance_id))).toEqual(new Set(ids));
    expect(calls.scan).toBeGreaterThanOrEqual(3);
    expect(calls.mget).toBeGreaterThan(0);
    expect(calls.mget).toBeLessThanOrEqual(calls.scan as number);
    expect(calls.keys).toBeUndefined();
    expect(calls.get).toBeUndefined();
  });

  it('skips entries that cannot be decoded and lists the rest', async () => {
    await register({ instance_id: 'good', port: 7000 });
    await fx.inspect.set('instance:not-json', '{oops');
    await fx.inspect.set('instance:number', '42');
    await fx.inspect.set('instance:null', 'null');
    await fx.inspect.set('instance:no-port', JSON.stringify({ instance_id: 'no-port', ipv4: '1.2.3.4' }));
    await fx.inspect.set(
      'instance:bad-port',
      JSON.stringify({ instance_id: 'bad-port', ipv4: '1.2.3.4', port: '5' }),
    );
    await fx.inspect.set('instance:no-id', JSON.stringify({ ipv4: '1.2.3.4', port: 5 }));
    await fx.inspect.hset('instance:a-hash', 'instance_id', 'a-hash');
    expect(await listInstances()).toEqual([{ instance_id: 'good', ipv4: '127.0.0.1', port: 7000 }]);
  });

  it('only undecodable entries → still 200 with an empty list', async () => {
    await fx.inspect.set('instance:not-json', '{oops');
    expect(await listInstances()).toEqual([]);
  });

  it('ids with glob characters are listed literally, not expanded', async () => {
    const ids = ['*', 'a:b', '...', '[ab]', '?', 'instance:*'];
    for (const id of ids) await register({ instance_id: id });
    const listed = (await listInstances()).map((i) => i.instance_id);
    expect(listed.sort()).toEqual([...ids].sort());
  });
});

describe('POST /v1/unregister/:instance_id', () => {
  it('deletes the entry and answers 200 with an empty body; again is still 200 (idempotent)', async () => {
    await register({ instance_id: 'gone' });
    await register({ instance_id: 'stays' });
    for (let i = 0; i < 2; i++) {
      const res = await unregister('gone');
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('');
    }
    expect((await listInstances()).map((i) => i.instance_id)).toEqual(['stays']);
  });

  it('unregistering "*" deletes only the literal key instance:*', async () => {
    for (const id of ['*', 'a', 'b*', '[ab]']) await register({ instance_id: id });
    expect((await unregister('*')).statusCode).toBe(200);
    const listed = (await listInstances()).map((i) => i.instance_id).sort();
    expect(listed).toEqual(['[ab]', 'a', 'b*']);
    expect((await unregister(encodeURIComponent('[ab]'))).statusCode).toBe(200);
    expect((await listInstances()).map((i) => i.instance_id).sort()).toEqual(['a', 'b*']);
  });

  it('decodes percent-encoded ids (the gateway encodes them)', async () => {
    const id = 'ünïcødé ☃:1';
    await register({ instance_id: id });
    expect((await unregister(encodeURIComponent(id))).statusCode).toBe(200);
    expect(await fx.inspect.exists(`instance:${id}`)).toBe(0);
  });

  it('ignores any request body, whatever its content type', async () => {
    await register({ instance_id: 'w' });
    const res = await unregister('w', { headers: { 'content-type': 'application/xml' }, payload: '<x/>' });
    expect(res.statusCode).toBe(200);
    const json = await unregister('w', {
      headers: { 'content-type': 'application/json' },
      payload: '{broken',
    });
    expect(json.statusCode).toBe(200);
    expect(await fx.inspect.exists('instance:w')).toBe(0);
  });

  it.each([
    ['a%2Fb', "instance_id must not contain '/' or control characters"],
    ['a%00b', "instance_id must not contain '/' or control characters"],
    ['a%0Ab', "instance_id must not contain '/' or control characters"],
    ['x'.repeat(254), 'instance_id must be at most 253 characters'],
    ['x'.repeat(5_000), 'instance_id must be at most 253 characters'],
    ['', 'instance_id is required'],
  ])('hostile id %# → 400 %s, nothing deleted', async (encodedId, message) => {
    await fx.inspect.set('instance:a', 'keep');
    const res = await unregister(encodedId);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'bad_parameter', message } });
    expect(await fx.inspect.exists('instance:a')).toBe(1);
  });

  it('malformed percent-encoding → 400 with the envelope', async () => {
    const res = await unregister('%E0%A4%A');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('bad_parameter');
  });
});

describe('framework errors, health and the OpenAPI document', () => {
  it('unknown path → 404 entity_not_found (the reference said internal_server_error)', async () => {
    const res = await fx.app.inject({ method: 'GET', url: '/v1/nothing' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'entity_not_found', message: 'Not Found' } });
  });

  it.each([
    ['GET', '/v1/register', 'POST'],
    ['PUT', '/v1/register', 'POST'],
    ['GET', '/v1/unregister/w', 'POST'],
    ['DELETE', '/v1/instances', 'GET, HEAD'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['POST', '/openapi.yaml', 'GET, HEAD'],
  ] as const)('%s %s → 405 with Allow: %s', async (method, url, allow) => {
    const res = await fx.app.inject({ method, url });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(res.json()).toEqual({ error: { code: 'method_not_allowed', message: 'Method Not Allowed' } });
  });

  it('GET /healthz → 200 {"status":"ok"} while Redis answers', async () => {
    const res = await fx.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /openapi.yaml serves discoverer/openapi.yaml, covering every route and the 200 empty list', async () => {
    const res = await fx.app.inject({ method: 'GET', url: '/openapi.yaml' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/yaml/);
    const file = await readFile(new URL('../openapi.yaml', import.meta.url), 'utf8');
    expect(res.body).toBe(file);
    expect(file).toMatch(/^openapi: 3\./);
    for (const path of [
      '/v1/register:',
      '/v1/unregister/{instance_id}:',
      '/v1/instances:',
      '/healthz:',
      '/openapi.yaml:',
    ]) {
      expect(file).toContain(`\n  ${path}\n`);
    }
    expect(file).toContain('ErrorEnvelope:');
    expect(file).toContain('`{"instances":[]}`');
  });
});
