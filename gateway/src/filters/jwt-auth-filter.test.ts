import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { RequestHeaders } from '../grpc/request-headers.js';
import { Status } from '../grpc/status.js';
import type { Route } from '../routing/route-table.js';
import type { CallContext } from './header-filter.js';
import { CONTINUE } from './header-filter.js';
import { Hs256TokenValidator, type TokenValidator } from './hs256-token-validator.js';
import { JwtAuthFilter } from './jwt-auth-filter.js';

const SECRET = 'gateway-secret';
const NOW_MS = 1_800_000_000_000;
const SESSION = 'session-42';

const requiredRoute: Route = {
  prefix: '/my_service.MyServiceAPI/MyService',
  cluster: 'my_service',
  authorization: 'required',
  balancer: { type: 'sticky_sessions', header: 'session-id' },
  isDefault: false,
};
const ctx: CallContext = { path: '/my_service.MyServiceAPI/MyServiceEcho', route: requiredRoute };

const UNAUTHENTICATED_SESSION = {
  action: 'reject',
  code: Status.UNAUTHENTICATED,
  message: 'missing session-id',
};
const UNAUTHENTICATED_TOKEN = {
  action: 'reject',
  code: Status.UNAUTHENTICATED,
  message: 'missing or invalid token',
};

function token({ secret = SECRET, sessionId = SESSION, expS = NOW_MS / 1000 + 3600 } = {}): Promise<string> {
  return new SignJWT({ login: 'TestUser', role: 'admin', session_id: sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(NOW_MS / 1000 - 5)
    .setExpirationTime(expS)
    .sign(new TextEncoder().encode(secret));
}

let now = NOW_MS;
const filter = new JwtAuthFilter(new Hs256TokenValidator(SECRET), () => now);
type HeaderObject = Record<string, string | undefined>;
const apply = (headers: HeaderObject, context: CallContext = ctx) =>
  filter.apply(RequestHeaders.fromObject(headers), context);

describe('JwtAuthFilter (REFERENCE.md 6.5)', () => {
  it('lets a valid token for the same session through, headers untouched', async () => {
    const headers = Object.freeze({ 'session-id': SESSION, authorization: await token() });
    expect(apply(headers)).toBe(CONTINUE);
  });

  it('does nothing on routes with authorization none, nor on the default route', () => {
    expect(apply({}, { ...ctx, route: { ...requiredRoute, authorization: 'none' } })).toBe(CONTINUE);
    expect(
      apply({}, { ...ctx, route: { ...requiredRoute, authorization: 'none', prefix: '', isDefault: true } }),
    ).toBe(CONTINUE);
  });

  it.each([
    ['missing', {}],
    ['empty', { 'session-id': '' }],
  ])('session-id %s -> UNAUTHENTICATED missing session-id', (_name, headers) => {
    expect(apply(headers)).toEqual(UNAUTHENTICATED_SESSION);
  });

  it('checks session-id before the token', () => {
    expect(apply({ authorization: 'garbage' })).toEqual(UNAUTHENTICATED_SESSION);
    expect(apply({ 'session-id': '', authorization: '' })).toEqual(UNAUTHENTICATED_SESSION);
  });

  it.each([
    ['missing', {}],
    ['empty', { authorization: '' }],
    ['whitespace only', { authorization: ' \t ' }],
    ['only a Bearer scheme', { authorization: 'Bearer   ' }],
  ])('authorization %s -> UNAUTHENTICATED missing or invalid token', (_name, headers) => {
    expect(apply({ 'session-id': SESSION, ...headers })).toEqual(UNAUTHENTICATED_TOKEN);
  });

  it.each([
    ['malformed', async () => 'not-a-jwt'],
    ['signed with another secret', () => token({ secret: 'other' })],
    ['for another session', () => token({ sessionId: 'session-43' })],
    ['expired', () => token({ expS: NOW_MS / 1000 - 1 })],
    [
      'alg none',
      async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${(await token()).split('.')[1]}.`,
    ],
  ])('a token %s -> UNAUTHENTICATED missing or invalid token', async (_name, make) => {
    expect(apply({ 'session-id': SESSION, authorization: await make() })).toEqual(UNAUTHENTICATED_TOKEN);
  });

  it('trims the token', async () => {
    expect(apply({ 'session-id': SESSION, authorization: `  ${await token()}\t` })).toBe(CONTINUE);
  });

  it('also accepts a Bearer prefix, in any case (beyond the reference)', async () => {
    const jwt = await token();
    for (const value of [`Bearer ${jwt}`, `bearer ${jwt}`, `BEARER\t${jwt}`, ` Bearer   ${jwt} `]) {
      expect(apply({ 'session-id': SESSION, authorization: value })).toBe(CONTINUE);
    }
    expect(apply({ 'session-id': SESSION, authorization: `Bearer${jwt}` })).toEqual(UNAUTHENTICATED_TOKEN);
  });

  it('uses the injected clock: exp == now passes, one millisecond later fails', async () => {
    const jwt = await token({ expS: NOW_MS / 1000 + 30 });
    try {
      now = NOW_MS + 30_000;
      expect(apply({ 'session-id': SESSION, authorization: jwt })).toBe(CONTINUE);
      now = NOW_MS + 30_001;
      expect(apply({ 'session-id': SESSION, authorization: jwt })).toEqual(UNAUTHENTICATED_TOKEN);
    } finally {
      now = NOW_MS;
    }
  });

  it('defaults to the wall clock', async () => {
    const live = new JwtAuthFilter(new Hs256TokenValidator(SECRET));
    const fresh = await token({ expS: Math.floor(Date.now() / 1000) + 60 });
    const stale = await token({ expS: Math.floor(Date.now() / 1000) - 60 });
    expect(live.apply(RequestHeaders.fromObject({ 'session-id': SESSION, authorization: fresh }), ctx)).toBe(
      CONTINUE,
    );
    expect(
      live.apply(RequestHeaders.fromObject({ 'session-id': SESSION, authorization: stale }), ctx),
    ).toEqual(UNAUTHENTICATED_TOKEN);
  });

  it('passes the session-id header value and the trimmed token to the validator', () => {
    const calls: [string, string, number][] = [];
    const recording: TokenValidator = {
      validate: (t, s, n) => {
        calls.push([t, s, n]);
        return true;
      },
    };
    new JwtAuthFilter(recording, () => 7).apply(
      RequestHeaders.fromObject({ 'session-id': ' s ', authorization: ' Bearer t ' }),
      ctx,
    );
    expect(calls).toEqual([['t', ' s ', 7]]);
  });

  it('a validator that throws -> INTERNAL with its error text, never the token', () => {
    const throwing: TokenValidator = {
      validate: (t) => {
        throw new Error(`key store unreachable while checking ${t}`);
      },
    };
    const decision = new JwtAuthFilter(throwing).apply(
      RequestHeaders.fromObject({ 'session-id': SESSION, authorization: 'secret.token.value' }),
      ctx,
    );
    expect(decision).toEqual({
      action: 'reject',
      code: Status.INTERNAL,
      message: 'key store unreachable while checking <redacted>',
    });
  });

  it('never puts the token in a message', async () => {
    const jwt = await token({ sessionId: 'other' });
    const decision = apply({ 'session-id': SESSION, authorization: jwt });
    expect(JSON.stringify(decision)).not.toContain(jwt.split('.')[2]);
  });

  it('has a stable name', () => {
    expect(filter.name).toBe('jwt_auth');
  });
});
