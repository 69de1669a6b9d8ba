import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from './app.js';
import {
  type DiscovererFixture,
  registration,
  startDiscovererFixture,
} from './test-support/discoverer-fixture.js';

/**
 * Hostile input (issue 6): every request a careless or malicious client can send gets the envelope
 * with a clear message, nothing odd reaches Redis, and what is accepted can be removed again through
 * the URL the gateway builds (`encodeURIComponent` + WHATWG URL parsing, as `fetch` does).
 */

let fx: DiscovererFixture;
let base: string;

beforeAll(async () => {
  fx = await startDiscovererFixture();
  await fx.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(fx.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await fx?.close();
});
beforeEach(async () => {
  await fx.inspect.flushall();
});

function register(body: string, contentType = 'application/json') {
  return fetch(`${base}/v1/register`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
    signal: AbortSignal.timeout(5_000),
  });
}

async function expectBadParameter(response: Response, message: string): Promise<void> {
  expect(response.status).toBe(400);
  expect(await response.json()).toEqual({ error: { code: 'bad_parameter', message } });
}

/** The gateway's unregister request, byte for byte the URL it builds (gateway discoverer-client). */
function unregisterLikeTheGateway(id: string) {
  return fetch(`${base}/v1/unregister/${encodeURIComponent(id)}`, {
    method: 'POST',
    signal: AbortSignal.timeout(5_000),
  });
}

async function listedIds(): Promise<string[]> {
  const response = await fetch(`${base}/v1/instances`, { signal: AbortSignal.timeout(5_000) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { instances: Array<{ instance_id: string }> }).instances.map(
    (instance) => instance.instance_id,
  );
}

describe('instance ids: whatever is accepted can be unregistered by the gateway', () => {
  const accepted = [
    '*',
    'a:b',
    'instance:*',
    '[ab]?',
    '%2F',
    'a%b',
    '?x=1',
    '#frag',
    ' ',
    'a b',
    '\\',
    'a;b',
    '...',
    '..x',
    '.x',
    '~user',
    'ünïcødé ☃',
    '𝒳-astral',
    '"quoted"',
    '<script>',
  ];

  it.each(accepted)(
    'id %j registers, lists literally and unregisters through the gateway URL',
    async (id) => {
      expect((await register(JSON.stringify(registration({ instance_id: id })))).status).toBe(200);
      await fx.inspect.set(
        'instance:bystander',
        JSON.stringify({ instance_id: 'bystander', ipv4: '1.2.3.4', port: 1 }),
      );
      expect((await listedIds()).sort()).toEqual([id, 'bystander'].sort());

      const unregistered = await unregisterLikeTheGateway(id);
      expect(unregistered.status).toBe(200);
      expect(await listedIds()).toEqual(['bystander']);
      expect(await fx.inspect.dbsize()).toBe(1);
    },
  );

  it.each(['.', '..'])('id %j is refused at registration: no URL client could unregister it', async (id) => {
    await expectBadParameter(
      await register(JSON.stringify(registration({ instance_id: id }))),
      'instance_id must not be "." or ".."',
    );
    expect(await fx.inspect.dbsize()).toBe(0);
  });

  it.each([
    ['a lone high surrogate', '"a\\ud800b"'],
    ['a lone low surrogate', '"\\udc00"'],
    ['reversed surrogates', '"\\udc00\\ud800"'],
  ])('an id with %s is refused: it cannot be percent-encoded into a URL', async (_name, idJson) => {
    const body = JSON.stringify(registration({ instance_id: 'placeholder' })).replace(
      '"placeholder"',
      idJson,
    );
    await expectBadParameter(await register(body), 'instance_id must be well-formed Unicode');
    expect(await fx.inspect.dbsize()).toBe(0);
  });

  it('an id escaped as JSON unicode (\\u002F, \\u0000) is checked after decoding', async () => {
    for (const escaped of ['"a\\u002Fb"', '"a\\u0000b"', '"\\u001b[31m"']) {
      const body = JSON.stringify(registration({ instance_id: 'placeholder' })).replace(
        '"placeholder"',
        escaped,
      );
      await expectBadParameter(
        await register(body),
        "instance_id must not contain '/' or control characters",
      );
    }
    expect(await fx.inspect.dbsize()).toBe(0);
  });
});

describe('hostile bodies', () => {
  it.each([
    [
      'port 1e400 (Infinity)',
      '{"instance_id":"w","service_type":"s","ipv4":"1.2.3.4","port":1e400,"ttl_ms":1000}',
      'invalid request body',
    ],
    [
      'port 2^53 + 1',
      '{"instance_id":"w","service_type":"s","ipv4":"1.2.3.4","port":9007199254740993,"ttl_ms":1000}',
      'port must be an integer between 1 and 65535',
    ],
    [
      'port -65535',
      '{"instance_id":"w","service_type":"s","ipv4":"1.2.3.4","port":-65535,"ttl_ms":1000}',
      'port must be an integer between 1 and 65535',
    ],
    [
      'port as an array',
      '{"instance_id":"w","service_type":"s","ipv4":"1.2.3.4","port":[5000],"ttl_ms":1000}',
      'invalid request body',
    ],
    [
      'port as an object',
      '{"instance_id":"w","service_type":"s","ipv4":"1.2.3.4","port":{"n":5000},"ttl_ms":1000}',
      'invalid request body',
    ],
    [
      'ttl_ms 1e20',
      '{"instance_id":"w","service_type":"s","ipv4":"1.2.3.4","port":5000,"ttl_ms":1e20}',
      'ttl_ms must be at most 86400000',
    ],
    [
      'instance_id as an array',
      '{"instance_id":["w"],"service_type":"s","ipv4":"1.2.3.4","port":5000,"ttl_ms":1000}',
      'invalid request body',
    ],
    [
      'instance_id as an object',
      '{"instance_id":{"$ne":null},"service_type":"s","ipv4":"1.2.3.4","port":5000,"ttl_ms":1000}',
      'invalid request body',
    ],
    [
      'ipv4 with a port',
      '{"instance_id":"w","service_type":"s","ipv4":"1.2.3.4:80","port":5000,"ttl_ms":1000}',
      'ipv4 must be an IPv4 address',
    ],
    [
      'ipv4 with a path',
      '{"instance_id":"w","service_type":"s","ipv4":"1.2.3.4/evil","port":5000,"ttl_ms":1000}',
      'ipv4 must be an IPv4 address',
    ],
    [
      'ipv4 with a newline',
      '{"instance_id":"w","service_type":"s","ipv4":"1.2.3.4\\n","port":5000,"ttl_ms":1000}',
      'ipv4 must be an IPv4 address',
    ],
    [
      'duplicate keys, the last one hostile',
      '{"instance_id":"w","instance_id":"a/b","service_type":"s","ipv4":"1.2.3.4","port":5000,"ttl_ms":1000}',
      "instance_id must not contain '/' or control characters",
    ],
    [
      'constructor pollution',
      '{"constructor":{"prototype":{"polluted":true}},"instance_id":"w"}',
      'invalid request body',
    ],
    [
      'a truncated body',
      '{"instance_id":"w","service_type":"s","ipv4":"1.2.3.4","port":50',
      'invalid request body',
    ],
    ['trailing garbage', `${JSON.stringify(registration())}garbage`, 'invalid request body'],
    [
      'two JSON documents',
      `${JSON.stringify(registration())}${JSON.stringify(registration())}`,
      'invalid request body',
    ],
    ['a NUL byte', '\u0000', 'invalid request body'],
  ])('%s → 400 %s, nothing stored', async (_name, body, message) => {
    await expectBadParameter(await register(body), message);
    expect(await fx.inspect.dbsize()).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('deeply nested JSON inside the limit is parsed without crashing the server', async () => {
    const depth = Math.floor((BODY_LIMIT_BYTES - 200) / 2);
    const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const body = JSON.stringify(registration({ instance_id: 'deep', extra: 'X' })).replace('"X"', nested);
    expect(body.length).toBeLessThanOrEqual(BODY_LIMIT_BYTES);
    const response = await register(body);
    expect(response.status).toBe(200);
    expect(JSON.parse((await fx.inspect.get('instance:deep')) ?? 'null')).not.toHaveProperty('extra');
    // Still serving.
    expect((await register(JSON.stringify(registration({ instance_id: 'after' })))).status).toBe(200);
  });

  it('a 16 MiB body streamed in chunks is refused with 413 long before it is all sent', async () => {
    const total = 16 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const result = await new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
      let sent = 0;
      const req = httpRequest(`${base}/v1/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString(), sent });
          req.destroy();
        });
      });
      // The server closes the connection after answering; a write error then is expected.
      req.on('error', (error) => (answered ? undefined : reject(error)));
      const pump = () => {
        while (!answered && sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!answered) req.end();
      };
      pump();
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toEqual({
      error: { code: 'payload_too_large', message: `request body must be at most ${BODY_LIMIT_BYTES} bytes` },
    });
    expect(result.sent).toBeLessThan(total);
    expect(await fx.inspect.dbsize()).toBe(0);
    expect((await register(JSON.stringify(registration({ instance_id: 'after' })))).status).toBe(200);
  });

  it('a Content-Length larger than the limit is refused with 413 before any body byte', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/v1/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(1024 * 1024 * 1024) },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(413);
  });
});
