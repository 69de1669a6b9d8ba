import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type DiscovererFixture,
  registration,
  startDiscovererFixture,
} from './test-support/discoverer-fixture.js';

const WRITER = 'writer-token-0123456789abcdef';
const OTHER_WRITER = 'another-team-token-fedcba9876';
const READER = 'reader-token-0123456789abcdef';

let fx: DiscovererFixture;

beforeAll(async () => {
  fx = await startDiscovererFixture({ write: [WRITER, OTHER_WRITER], read: [READER] });
});
afterAll(async () => {
  await fx?.close();
});
beforeEach(async () => {
  await fx.inspect.flushall();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function register(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fx.app.inject({
    method: 'POST',
    url: '/v1/register',
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(body),
  });
}

function unregister(id: string, headers: Record<string, string> = {}) {
  return fx.app.inject({ method: 'POST', url: `/v1/unregister/${encodeURIComponent(id)}`, headers });
}

function list(headers: Record<string, string> = {}) {
  return fx.app.inject({ method: 'GET', url: '/v1/instances', headers });
}

const unauthorized = (message: string) => ({ error: { code: 'unauthorized', message } });

describe('bearer tokens', () => {
  it('refuses a registration without a token or with a wrong one with 401 and the envelope, writing nothing', async () => {
    for (const [headers, message] of [
      [{}, 'missing bearer token'],
      [{ authorization: WRITER }, 'missing bearer token'],
      [{ authorization: `Basic ${Buffer.from(`u:${WRITER}`).toString('base64')}` }, 'missing bearer token'],
      [bearer(`${WRITER}x`), 'invalid bearer token'],
      [bearer(WRITER.slice(0, -1)), 'invalid bearer token'],
      [bearer(READER), 'invalid bearer token'],
    ] as const) {
      const res = await register(registration(), headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(401);
      expect(res.json()).toEqual(unauthorized(message));
      expect(res.headers['www-authenticate']).toBe('Bearer realm="discoverer"');
    }
    expect(await fx.inspect.keys('*')).toEqual([]);
  });

  it('checks the token before the body: a bad body without a token is still 401', async () => {
    const res = await fx.app.inject({
      method: 'POST',
      url: '/v1/register',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(res.statusCode).toBe(401);
  });

  it('accepts every configured write token, with any case of the scheme, and keeps only a digest', async () => {
    expect((await register(registration({ instance_id: 'a' }), bearer(WRITER))).statusCode).toBe(200);
    expect(
      (await register(registration({ instance_id: 'b' }), { authorization: `bearer  ${OTHER_WRITER}` }))
        .statusCode,
    ).toBe(200);
    const stored = (await fx.inspect.get('instance:a')) ?? '';
    expect(stored).not.toContain(WRITER);
    expect(JSON.parse(stored).registered_by).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses an unregistration without the write token and leaves the entry', async () => {
    await register(registration({ instance_id: 'w-1' }), bearer(WRITER));
    for (const headers of [{}, bearer('nope'), bearer(READER)]) {
      const res = await unregister('w-1', headers);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
    }
    expect(await fx.inspect.exists('instance:w-1')).toBe(1);
    // Any write token unregisters (the gateway removes dead instances whoever registered them).
    expect((await unregister('w-1', bearer(OTHER_WRITER))).statusCode).toBe(200);
    expect(await fx.inspect.exists('instance:w-1')).toBe(0);
  });

  it('lists with the read token or a write token only, and never shows the digest', async () => {
    await register(registration({ instance_id: 'w-1' }), bearer(WRITER));
    expect((await list()).statusCode).toBe(401);
    expect((await list(bearer('wrong'))).json()).toEqual(unauthorized('invalid bearer token'));
    for (const token of [READER, WRITER]) {
      const res = await list(bearer(token));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ instances: [{ instance_id: 'w-1', ipv4: '127.0.0.1', port: 5000 }] });
    }
  });

  it('leaves /healthz and /openapi.yaml open', async () => {
    expect((await fx.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await fx.app.inject({ method: 'GET', url: '/openapi.yaml' })).statusCode).toBe(200);
  });

  it('compares in constant time: digests of equal length through crypto.timingSafeEqual', () => {
    const source = readFileSync(new URL('./bearer-auth.ts', import.meta.url), 'utf8');
    expect(source).toContain("createHash('sha256')");
    expect(source).toMatch(/timingSafeEqual\(digest, presented\)/);
  });
});

describe('registration hygiene (an instance_id belongs to the token that registered it)', () => {
  it('refuses a live id at another address with another token: 409 instance_id_conflict, the entry unchanged', async () => {
    await register(registration({ instance_id: 'w-1', port: 5000 }), bearer(WRITER));
    const before = await fx.inspect.get('instance:w-1');
    const res = await register(registration({ instance_id: 'w-1', port: 6666 }), bearer(OTHER_WRITER));
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      error: {
        code: 'instance_id_conflict',
        message: 'instance_id "w-1" is registered at another address with another token',
      },
    });
    expect(await fx.inspect.get('instance:w-1')).toBe(before);
    const ipChange = await register(
      registration({ instance_id: 'w-1', ipv4: '10.0.0.9' }),
      bearer(OTHER_WRITER),
    );
    expect(ipChange.statusCode).toBe(409);
  });

  it('lets the same token move its id, and any token refresh the same address (heartbeat)', async () => {
    await register(registration({ instance_id: 'w-1', port: 5000 }), bearer(WRITER));
    expect(
      (await register(registration({ instance_id: 'w-1', port: 5001 }), bearer(WRITER))).statusCode,
    ).toBe(200);
    expect(JSON.parse((await fx.inspect.get('instance:w-1')) ?? '{}').port).toBe(5001);
    // Same address: a restart with a rotated token re-registers in place and takes the entry over.
    expect(
      (await register(registration({ instance_id: 'w-1', port: 5001 }), bearer(OTHER_WRITER))).statusCode,
    ).toBe(200);
    expect(
      (await register(registration({ instance_id: 'w-1', port: 5002 }), bearer(WRITER))).statusCode,
    ).toBe(409);
  });

  it('lets another token take the id once the old entry has expired', async () => {
    await register(registration({ instance_id: 'w-1', port: 5000, ttl_ms: 200 }), bearer(WRITER));
    await waitForKeyToExpire('instance:w-1');
    const res = await register(registration({ instance_id: 'w-1', port: 6666 }), bearer(OTHER_WRITER));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse((await fx.inspect.get('instance:w-1')) ?? '{}').port).toBe(6666);
  });

  it('treats an entry without an owner (written by an open registry) as another token', async () => {
    await fx.inspect.set('instance:w-1', JSON.stringify(registration({ instance_id: 'w-1' })), 'PX', 60_000);
    expect(
      (await register(registration({ instance_id: 'w-1', port: 7000 }), bearer(WRITER))).statusCode,
    ).toBe(409);
    expect((await register(registration({ instance_id: 'w-1' }), bearer(WRITER))).statusCode).toBe(200);
  });

  it('overwrites an undecodable entry', async () => {
    await fx.inspect.set('instance:w-1', 'not json', 'PX', 60_000);
    expect((await register(registration({ instance_id: 'w-1' }), bearer(WRITER))).statusCode).toBe(200);
  });
});

describe('OpenAPI', () => {
  it('declares the bearer scheme on register and unregister, optional on the list', () => {
    const document = parse(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8'));
    expect(document.components.securitySchemes.registryToken).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(document.paths['/v1/register'].post.security).toEqual([{ registryToken: [] }]);
    expect(document.paths['/v1/unregister/{instance_id}'].post.security).toEqual([{ registryToken: [] }]);
    expect(document.paths['/v1/instances'].get.security).toEqual([
      {},
      { readToken: [] },
      { registryToken: [] },
    ]);
    expect(document.paths['/healthz'].get.security).toEqual([]);
    for (const path of ['/v1/register', '/v1/unregister/{instance_id}']) {
      expect(document.paths[path].post.responses['401']).toBeDefined();
    }
    expect(document.paths['/v1/register'].post.responses['409']).toBeDefined();
  });
});

/** Redis expires keys lazily and actively; poll (bounded) instead of sleeping a fixed time. */
async function waitForKeyToExpire(key: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await fx.inspect.exists(key)) === 1) {
    if (Date.now() > deadline) throw new Error(`${key} did not expire`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
