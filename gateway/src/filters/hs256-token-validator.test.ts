import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Hs256TokenValidator } from './hs256-token-validator.js';

const SECRET = 'test-secret';
const NOW_S = 1_800_000_000;
const NOW_MS = NOW_S * 1000;
const SESSION = 'session-1';

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Hand-rolled HS256 signing, so every header and claim can be shaped at will. */
function craft(
  payload: Record<string, unknown>,
  { header = { alg: 'HS256', typ: 'JWT' } as unknown, secret = SECRET, hmac = 'sha256' } = {},
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(hmac, secret).update(input).digest('base64url')}`;
}

const claims = (extra: Record<string, unknown> = {}) => ({
  login: 'TestUser',
  role: 'admin',
  session_id: SESSION,
  iat: NOW_S - 10,
  exp: NOW_S + 3600,
  ...extra,
});

function joseToken(secret = SECRET, sessionId = SESSION, exp = NOW_S + 3600): Promise<string> {
  return new SignJWT({ login: 'TestUser', role: 'admin', session_id: sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(NOW_S - 10)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(secret));
}

describe('Hs256TokenValidator', () => {
  const validator = () => new Hs256TokenValidator(SECRET);

  it('accepts a token signed by jose SignJWT (as the auth service issues them)', async () => {
    expect(validator().validate(await joseToken(), SESSION, NOW_MS)).toBe(true);
  });

  it('accepts a non-ASCII secret with the same bytes as jose', async () => {
    const secret = 'sécret-ключ';
    expect(new Hs256TokenValidator(secret).validate(await joseToken(secret), SESSION, NOW_MS)).toBe(true);
  });

  it('accepts a hand-made token without typ', () => {
    expect(validator().validate(craft(claims(), { header: { alg: 'HS256' } }), SESSION, NOW_MS)).toBe(true);
  });

  it('rejects a token signed with another secret', async () => {
    expect(validator().validate(await joseToken('other-secret'), SESSION, NOW_MS)).toBe(false);
  });

  it('rejects a token whose session_id is not the session-id header', async () => {
    const token = await joseToken();
    expect(validator().validate(token, 'session-2', NOW_MS)).toBe(false);
    expect(validator().validate(token, '', NOW_MS)).toBe(false);
  });

  it('expires only when now is strictly after exp (exp == now is accepted)', () => {
    const token = craft(claims({ exp: NOW_S }));
    expect(validator().validate(token, SESSION, NOW_MS)).toBe(true);
    expect(validator().validate(token, SESSION, NOW_MS + 1)).toBe(false);
    expect(validator().validate(craft(claims({ exp: NOW_S - 60 })), SESSION, NOW_MS)).toBe(false);
  });

  it('rejects a tampered payload or header', async () => {
    const [header, , signature] = (await joseToken()).split('.');
    const forged = `${header}.${b64(claims({ role: 'root' }))}.${signature}`;
    expect(validator().validate(forged, SESSION, NOW_MS)).toBe(false);
    const [, payload] = (await joseToken()).split('.');
    const otherHeader = `${b64({ alg: 'HS256', typ: 'JWS' })}.${payload}.${signature}`;
    expect(validator().validate(otherHeader, SESSION, NOW_MS)).toBe(false);
  });

  it('rejects a tampered or non-canonical signature', () => {
    const token = craft(claims());
    const signature = token.split('.')[2] as string;
    // 43 characters carry 258 bits for 256: flipping the last character's lowest bit keeps the bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = `${signature.slice(0, -1)}${alphabet[alphabet.indexOf(signature.at(-1) as string) ^ 1]}`;
    expect(Buffer.from(twin, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    expect(validator().validate(`${token.slice(0, -signature.length)}${twin}`, SESSION, NOW_MS)).toBe(false);
    const flipped = `${token.slice(0, -10)}${token.at(-10) === 'A' ? 'B' : 'A'}${token.slice(-9)}`;
    expect(validator().validate(flipped, SESSION, NOW_MS)).toBe(false);
  });

  it.each([
    ['alg none, empty signature', () => `${b64({ alg: 'none' })}.${b64(claims())}.`],
    ['alg none, HS256 signature', () => craft(claims(), { header: { alg: 'none' } })],
    ['alg "hs256" (case matters)', () => craft(claims(), { header: { alg: 'hs256' } })],
    ['missing alg', () => craft(claims(), { header: { typ: 'JWT' } })],
    [
      'header RS256 with an HS256 signature (key confusion)',
      () => craft(claims(), { header: { alg: 'RS256' } }),
    ],
    ['header HS384 with an HS256 signature', () => craft(claims(), { header: { alg: 'HS384' } })],
    [
      'header HS384 with an HS384 signature',
      () => craft(claims(), { header: { alg: 'HS384' }, hmac: 'sha384' }),
    ],
    ['a crit header', () => craft(claims(), { header: { alg: 'HS256', crit: ['b64'], b64: false } })],
    ['a header that is not JSON', () => craft(claims(), { header: 'not json' })],
    ['a header that is a JSON array', () => craft(claims(), { header: ['HS256'] })],
  ])('rejects %s', (_name, token) => {
    expect(validator().validate(token(), SESSION, NOW_MS)).toBe(false);
  });

  it.each([
    ['missing exp', { exp: undefined }],
    ['exp as a string', { exp: String(NOW_S + 3600) }],
    ['exp null', { exp: null }],
    ['missing session_id', { session_id: undefined }],
    ['numeric session_id', { session_id: 1 }],
    ['nbf as a string', { nbf: 'now' }],
  ])('rejects a payload with %s', (_name, extra) => {
    expect(validator().validate(craft(claims(extra)), SESSION, NOW_MS)).toBe(false);
  });

  it('rejects a payload that is not a JSON object', () => {
    for (const payload of ['[]', 'null', '"x"', '{"exp":']) {
      const input = `${b64({ alg: 'HS256' })}.${b64(payload)}`;
      const token = `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
      expect(validator().validate(token, SESSION, NOW_MS)).toBe(false);
    }
  });

  it('honours nbf: not valid before it, valid from it', () => {
    const token = craft(claims({ nbf: NOW_S + 60 }));
    expect(validator().validate(token, SESSION, NOW_MS)).toBe(false);
    expect(validator().validate(token, SESSION, (NOW_S + 60) * 1000)).toBe(true);
    expect(validator().validate(craft(claims({ nbf: NOW_S - 60 })), SESSION, NOW_MS)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['one part', 'abc'],
    ['two parts', 'abc.def'],
    ['four parts', `${craft(claims())}.x`],
    ['empty header', `.${craft(claims()).split('.').slice(1).join('.')}`],
    ['padding characters', `${craft(claims())}=`],
    ['a standard base64 character', craft(claims()).replace('.', '.+')],
    ['the reference format (payload.signature)', `${Buffer.from('{}').toString('base64')}.c2ln`],
  ])('rejects a malformed token: %s', (_name, token) => {
    expect(validator().validate(token, SESSION, NOW_MS)).toBe(false);
  });

  it('rejects an absurdly long token without verifying it', () => {
    const long = craft(claims({ padding: 'x'.repeat(10_000) }));
    expect(long.length).toBeGreaterThan(8192);
    expect(validator().validate(long, SESSION, NOW_MS)).toBe(false);
    expect(validator().validate('a'.repeat(1_000_000), SESSION, NOW_MS)).toBe(false);
    const justUnder = craft(claims({ padding: 'x'.repeat(5000) }));
    expect(justUnder.length).toBeLessThanOrEqual(8192);
    expect(validator().validate(justUnder, SESSION, NOW_MS)).toBe(true);
  });

  describe('verification cache', () => {
    it('a cache hit still checks expiry and session', async () => {
      const v = validator();
      const token = await joseToken(SECRET, SESSION, NOW_S + 10);
      expect(v.validate(token, SESSION, NOW_MS)).toBe(true);
      expect(v.validate(token, 'someone-else', NOW_MS)).toBe(false);
      expect(v.validate(token, SESSION, (NOW_S + 10) * 1000)).toBe(true);
      expect(v.validate(token, SESSION, (NOW_S + 10) * 1000 + 1)).toBe(false);
      expect(v.validate(token, SESSION, NOW_MS + 20_000)).toBe(false);
    });

    it('a cache hit still checks nbf', () => {
      const v = validator();
      const token = craft(claims({ nbf: NOW_S }));
      expect(v.validate(token, SESSION, NOW_MS)).toBe(true);
      expect(v.validate(token, SESSION, NOW_MS - 1)).toBe(false);
    });

    it('skips the HMAC on a hit', async () => {
      // Swap the key behind the validator's back: a fresh token can no longer verify, so the
      // cached one passing proves the hit did not recompute the signature.
      const v = validator();
      const token = await joseToken();
      expect(v.validate(token, SESSION, NOW_MS)).toBe(true);
      (v as unknown as { keys: KeyObject[] }).keys = [createSecretKey(Buffer.from('another-secret'))];
      expect(v.validate(await joseToken(SECRET, 'fresh-session'), 'fresh-session', NOW_MS)).toBe(false);
      expect(v.validate(token, SESSION, NOW_MS)).toBe(true);
    });

    it('is bounded, evicting the least recently used token', () => {
      const v = new Hs256TokenValidator(SECRET, { cacheSize: 2 });
      const [a, b, c] = ['a', 'b', 'c'].map((s) => craft(claims({ session_id: s })));
      const cache = (v as unknown as { cache: Map<string, unknown> }).cache;
      v.validate(a as string, 'a', NOW_MS);
      v.validate(b as string, 'b', NOW_MS);
      v.validate(a as string, 'a', NOW_MS);
      v.validate(c as string, 'c', NOW_MS);
      expect([...cache.keys()]).toEqual([a, c]);
      expect(cache.size).toBe(2);
    });

    it('moves a hit to the young end only once half the cache came in after it', () => {
      const v = new Hs256TokenValidator(SECRET, { cacheSize: 4 });
      const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((s) =>
        craft(claims({ session_id: s })),
      ) as string[];
      const cache = (v as unknown as { cache: Map<string, unknown> }).cache;
      v.validate(a, 'a', NOW_MS);
      v.validate(b, 'b', NOW_MS);
      v.validate(a, 'a', NOW_MS);
      expect([...cache.keys()]).toEqual([a, b]);
      v.validate(c, 'c', NOW_MS);
      v.validate(d, 'd', NOW_MS);
      v.validate(a, 'a', NOW_MS);
      expect([...cache.keys()]).toEqual([b, c, d, a]);
      v.validate(e, 'e', NOW_MS);
      expect([...cache.keys()]).toEqual([c, d, a, e]);
    });

    it('never caches a token that failed', () => {
      const v = new Hs256TokenValidator(SECRET, { cacheSize: 10 });
      const cache = (v as unknown as { cache: Map<string, unknown> }).cache;
      v.validate(craft(claims(), { secret: 'wrong' }), SESSION, NOW_MS);
      v.validate(craft(claims({ exp: NOW_S - 1 })), SESSION, NOW_MS);
      v.validate('garbage', SESSION, NOW_MS);
      expect(cache.size).toBe(0);
    });

    it('works with the cache disabled', () => {
      const v = new Hs256TokenValidator(SECRET, { cacheSize: 0 });
      const token = craft(claims());
      expect(v.validate(token, SESSION, NOW_MS)).toBe(true);
      expect(v.validate(token, SESSION, NOW_MS)).toBe(true);
    });
  });

  it('accepts a token signed with the previous secret during a rotation, and only then', async () => {
    const previous = await joseToken('previous-secret');
    const rotating = new Hs256TokenValidator(SECRET, { previousSecret: 'previous-secret' });
    expect(rotating.validate(previous, SESSION, NOW_MS)).toBe(true);
    expect(rotating.validate(await joseToken(), SESSION, NOW_MS)).toBe(true);
    expect(rotating.validate(await joseToken('third-secret'), SESSION, NOW_MS)).toBe(false);
    expect(new Hs256TokenValidator(SECRET).validate(previous, SESSION, NOW_MS)).toBe(false);
  });

  it('refuses an empty secret and a negative cache size', () => {
    expect(() => new Hs256TokenValidator(SECRET, { previousSecret: '' })).toThrow(TypeError);
    expect(() => new Hs256TokenValidator('')).toThrow(TypeError);
    expect(() => new Hs256TokenValidator(SECRET, { cacheSize: -1 })).toThrow(RangeError);
  });
});
