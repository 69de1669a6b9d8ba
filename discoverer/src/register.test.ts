import { waitFor } from '@stickygw/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from './app.js';
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

function register(
  payload: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) {
  return fx.app.inject({
    method: 'POST',
    url: '/v1/register',
    headers,
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}

function badParameter(message: string) {
  return { error: { code: 'bad_parameter', message } };
}

describe('POST /v1/register success', () => {
  it('answers 200 with an empty body and stores the registration under instance:<id> with its TTL', async () => {
    const res = await register(registration({ instance_id: 'w-1', ttl_ms: 30_000 }));
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers['content-type']).toBeUndefined();

    const stored = JSON.parse((await fx.inspect.get('instance:w-1')) ?? 'null');
    expect(stored).toEqual({
      instance_id: 'w-1',
      service_type: 'grpcserver',
      ipv4: '127.0.0.1',
      port: 5000,
      ttl_ms: 30_000,
      timestamp: '2026-02-19T12:00:00Z',
    });
    const pttl = await fx.inspect.pttl('instance:w-1');
    expect(pttl).toBeGreaterThan(25_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
  });

  it('ignores unknown properties, accepts a missing timestamp and the boundary values', async () => {
    const body = registration({
      instance_id: 'x'.repeat(253),
      service_type: 's'.repeat(253),
      port: 65535,
      ttl_ms: 86_400_000,
      extra: { nested: [1, 2] },
    });
    delete body.timestamp;
    const res = await register(body);
    expect(res.statusCode).toBe(200);
    const stored = JSON.parse((await fx.inspect.get(`instance:${'x'.repeat(253)}`)) ?? 'null');
    expect(stored).not.toHaveProperty('extra');
    expect(stored.port).toBe(65535);

    expect((await register(registration({ instance_id: 'low', port: 1, ttl_ms: 1_000 }))).statusCode).toBe(
      200,
    );
  });

  it('accepts RFC 3339 timestamps with fractions and offsets, and charset in the content type', async () => {
    const res = await register(registration({ timestamp: '2026-02-19T12:00:00.123+01:00' }), {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(res.statusCode).toBe(200);
  });

  it('stores ids with glob and path characters literally', async () => {
    for (const id of ['*', 'a:b', '...', 'instance:*', '[ab]?', 'ünïcødé ☃']) {
      expect((await register(registration({ instance_id: id }))).statusCode).toBe(200);
      expect(await fx.inspect.exists(`instance:${id}`)).toBe(1);
    }
    expect(await fx.inspect.dbsize()).toBe(6);
  });

  it('re-registering overwrites the entry and restarts its TTL', async () => {
    await register(registration({ instance_id: 'hb', port: 5000, ttl_ms: 5_000 }));
    // Let the TTL run down a little, then heartbeat with the same TTL.
    await waitFor(async () => (await fx.inspect.pttl('instance:hb')) < 4_800, {
      description: 'TTL of instance:hb to run down',
      timeoutMs: 3_000,
      intervalMs: 25,
    });
    const res = await register(registration({ instance_id: 'hb', port: 6000, ttl_ms: 5_000 }));
    expect(res.statusCode).toBe(200);
    expect(await fx.inspect.pttl('instance:hb')).toBeGreaterThan(4_800);
    expect(JSON.parse((await fx.inspect.get('instance:hb')) ?? 'null').port).toBe(6000);
  });

  it('an entry disappears from the list once its ttl_ms has passed', async () => {
    await register(registration({ instance_id: 'short', ttl_ms: 150 }));
    await register(registration({ instance_id: 'long', ttl_ms: 60_000 }));
    const ids = async () =>
      (await fx.app.inject({ method: 'GET', url: '/v1/instances' }))
        .json()
        .instances.map((i: { instance_id: string }) => i.instance_id);
    expect((await ids()).sort()).toEqual(['long', 'short']);
    await waitFor(async () => !(await ids()).includes('short'), {
      description: 'instance "short" to expire',
      timeoutMs: 5_000,
    });
    expect(await ids()).toEqual(['long']);
    expect(await fx.inspect.exists('instance:short')).toBe(0);
  });
});

describe('POST /v1/register validation (REFERENCE.md 4.3, in the reference order)', () => {
  const cases: Array<[string, unknown, string]> = [
    // step 1: decoding
    ['not JSON', '{"instance_id":', 'invalid request body'],
    ['a JSON array', '[]', 'invalid request body'],
    ['a JSON string', '"worker"', 'invalid request body'],
    ['port as a string', registration({ port: '5000' }), 'invalid request body'],
    ['port as a fraction', registration({ port: 1.5 }), 'invalid request body'],
    ['instance_id as a number', registration({ instance_id: 7 }), 'invalid request body'],
    ['ttl_ms as a boolean', registration({ ttl_ms: true }), 'invalid request body'],
    ['timestamp not RFC 3339', registration({ timestamp: '19/02/2026' }), 'invalid request body'],
    ['timestamp without offset', registration({ timestamp: '2026-02-19T12:00:00' }), 'invalid request body'],
    ['timestamp as a number', registration({ timestamp: 1771502400 }), 'invalid request body'],
    ['prototype poisoning', '{"__proto__":{"polluted":true}}', 'invalid request body'],
    ['a decoding failure before a missing field', { port: 'x' }, 'invalid request body'],
    // steps 2-6: required fields, in order
    ['an empty JSON body', '', 'instance_id is required'],
    ['JSON null', 'null', 'instance_id is required'],
    ['an empty object', {}, 'instance_id is required'],
    ['instance_id empty', registration({ instance_id: '' }), 'instance_id is required'],
    ['instance_id null', registration({ instance_id: null }), 'instance_id is required'],
    ['only instance_id', { instance_id: 'w' }, 'service_type is required'],
    ['service_type empty', registration({ service_type: '' }), 'service_type is required'],
    ['ipv4 missing', registration({ ipv4: undefined }), 'ipv4 is required'],
    ['ipv4 empty', registration({ ipv4: '' }), 'ipv4 is required'],
    ['port missing', registration({ port: undefined }), 'port is required'],
    ['port 0', registration({ port: 0 }), 'port is required'],
    ['ttl_ms missing', registration({ ttl_ms: undefined }), 'ttl_ms is required'],
    ['ttl_ms 0', registration({ ttl_ms: 0 }), 'ttl_ms is required'],
    ['ttl_ms negative', registration({ ttl_ms: -5 }), 'ttl_ms is required'],
    ['every field missing but ttl_ms', { ttl_ms: 1 }, 'instance_id is required'],
    [
      'required before stricter checks',
      registration({ instance_id: 'a/b', service_type: '' }),
      'service_type is required',
    ],
    ['port 0 before an invalid ipv4', registration({ ipv4: 'nope', port: 0 }), 'port is required'],
    // stricter than the reference, in field order
    [
      'instance_id with /',
      registration({ instance_id: 'a/b' }),
      "instance_id must not contain '/' or control characters",
    ],
    [
      'instance_id with NUL',
      registration({ instance_id: 'a\u0000b' }),
      "instance_id must not contain '/' or control characters",
    ],
    [
      'instance_id with newline',
      registration({ instance_id: 'a\nb' }),
      "instance_id must not contain '/' or control characters",
    ],
    [
      'instance_id with DEL',
      registration({ instance_id: 'a\u007fb' }),
      "instance_id must not contain '/' or control characters",
    ],
    [
      'instance_id with a C1 control',
      registration({ instance_id: 'a\u0085b' }),
      "instance_id must not contain '/' or control characters",
    ],
    [
      'instance_id too long',
      registration({ instance_id: 'x'.repeat(254) }),
      'instance_id must be at most 253 characters',
    ],
    [
      'service_type too long',
      registration({ service_type: 's'.repeat(254) }),
      'service_type must be at most 253 characters',
    ],
    ['ipv4 a host name', registration({ ipv4: 'localhost' }), 'ipv4 must be an IPv4 address'],
    ['ipv4 out of range', registration({ ipv4: '256.1.1.1' }), 'ipv4 must be an IPv4 address'],
    ['ipv4 three parts', registration({ ipv4: '10.0.1' }), 'ipv4 must be an IPv4 address'],
    ['ipv4 an IPv6 address', registration({ ipv4: '::1' }), 'ipv4 must be an IPv4 address'],
    ['port negative', registration({ port: -1 }), 'port must be an integer between 1 and 65535'],
    ['port above 65535', registration({ port: 65536 }), 'port must be an integer between 1 and 65535'],
    ['ttl_ms above 24 h', registration({ ttl_ms: 86_400_001 }), 'ttl_ms must be at most 86400000'],
    [
      'strict checks in field order',
      registration({ ipv4: 'x', port: 70000, instance_id: 'a/b' }),
      "instance_id must not contain '/' or control characters",
    ],
    [
      'strict ipv4 before strict port',
      registration({ ipv4: 'x', port: 70000 }),
      'ipv4 must be an IPv4 address',
    ],
  ];

  it.each(cases)('%s → 400 %s', async (_name, payload, message) => {
    const res = await register(payload);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual(badParameter(message));
  });

  it('nothing is stored when validation fails', async () => {
    await register(registration({ port: 70000 }));
    expect(await fx.inspect.dbsize()).toBe(0);
  });

  it('no body and no content type → instance_id is required', async () => {
    const res = await fx.app.inject({ method: 'POST', url: '/v1/register' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(badParameter('instance_id is required'));
  });

  it.each([
    ['text/plain', JSON.stringify(registration())],
    ['application/x-www-form-urlencoded', 'instance_id=w&port=5000'],
    ['application/xml', '<registration/>'],
  ])('content type %s → 400 invalid request body', async (contentType, payload) => {
    const res = await register(payload, { 'content-type': contentType });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(badParameter('invalid request body'));
  });

  it(`a body over ${BODY_LIMIT_BYTES} bytes → 413 with the envelope; just under is fine`, async () => {
    const tooBig = await register(registration({ padding: 'x'.repeat(BODY_LIMIT_BYTES) }));
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json()).toEqual({
      error: { code: 'payload_too_large', message: `request body must be at most ${BODY_LIMIT_BYTES} bytes` },
    });
    const fits = await register(registration({ padding: 'x'.repeat(BODY_LIMIT_BYTES - 1_000) }));
    expect(fits.statusCode).toBe(200);
  });
});
