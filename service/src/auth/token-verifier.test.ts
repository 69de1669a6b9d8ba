import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { signToken, unsecuredToken, withPayload } from '../test-support/tokens.js';
import { TokenVerifier } from './token-verifier.js';

const SECRET = 'worker-test-secret';
const SESSION = 'session-1';
const unauthenticated = (message: string) => ({ code: status.UNAUTHENTICATED, message });

describe('TokenVerifier', () => {
  const verifier = new TokenVerifier(SECRET);

  it('accepts a valid token whose session_id equals the header', async () => {
    const token = await signToken({ secret: SECRET, sessionId: SESSION });
    expect(await verifier.verify(token, SESSION)).toBeUndefined();
    expect(await verifier.verify(`  ${token}\t`, SESSION)).toBeUndefined();
  });

  it.each([undefined, '', '   '])('refuses a missing authorization (%j)', async (authorization) => {
    expect(await verifier.verify(authorization, SESSION)).toEqual(
      unauthenticated('missing or invalid authorization'),
    );
  });

  it.each(['invalid_token_format_12345', 'a.b', 'a.b.c', 'one.two.three.four', `Bearer ${'x'.repeat(10)}`])(
    'maps a structural failure (%s) to invalid token format',
    async (token) => {
      expect(await verifier.verify(token, SESSION)).toEqual(unauthenticated('invalid token format'));
    },
  );

  it('accepts a token signed with JWT_SECRET_PREVIOUS during a rotation; removed, its signature is invalid', async () => {
    const token = await signToken({ secret: 'previous-secret', sessionId: SESSION });
    const rotating = new TokenVerifier(SECRET, Date.now, 'previous-secret');
    expect(await rotating.verify(token, SESSION)).toBeUndefined();
    expect(
      await rotating.verify(await signToken({ secret: SECRET, sessionId: SESSION }), SESSION),
    ).toBeUndefined();
    expect(await rotating.verify(token, 'another-session')).toEqual(unauthenticated('session_id mismatch'));
    expect(await verifier.verify(token, SESSION)).toEqual(unauthenticated('invalid token signature'));
    const stranger = await signToken({ secret: 'third-secret', sessionId: SESSION });
    expect(await rotating.verify(stranger, SESSION)).toEqual(unauthenticated('invalid token signature'));
  });

  it('refuses alg none', async () => {
    const token = unsecuredToken({ session_id: SESSION, exp: Math.floor(Date.now() / 1000) + 60 });
    expect(await verifier.verify(token, SESSION)).toEqual(unauthenticated('invalid token format'));
  });

  it('refuses any algorithm but HS256, even with the right secret', async () => {
    const token = await signToken({ secret: SECRET, sessionId: SESSION, alg: 'HS512' });
    expect(await verifier.verify(token, SESSION)).toEqual(unauthenticated('invalid token format'));
  });

  it('requires exp', async () => {
    const token = await signToken({ secret: SECRET, sessionId: SESSION, omitExp: true });
    expect(await verifier.verify(token, SESSION)).toEqual(unauthenticated('invalid token format'));
  });

  it('requires a string session_id claim', async () => {
    const token = await signToken({ secret: SECRET });
    expect(await verifier.verify(token, SESSION)).toEqual(unauthenticated('invalid token format'));
    const numeric = await signToken({ secret: SECRET, extraClaims: { session_id: 7 } });
    expect(await verifier.verify(numeric, '7')).toEqual(unauthenticated('invalid token format'));
  });

  it('refuses a token signed with another secret', async () => {
    const token = await signToken({ secret: 'another-secret', sessionId: SESSION });
    expect(await verifier.verify(token, SESSION)).toEqual(unauthenticated('invalid token signature'));
  });

  it('refuses a tampered payload', async () => {
    const token = await signToken({ secret: SECRET, sessionId: SESSION });
    const tampered = withPayload(token, {
      login: 'TestUser',
      role: 'admin',
      session_id: 'someone-else',
      exp: Math.floor(Date.now() / 1000) + 3600,
    });
    expect(await verifier.verify(tampered, 'someone-else')).toEqual(
      unauthenticated('invalid token signature'),
    );
  });

  it('checks the signature before the expiry', async () => {
    const token = await signToken({ secret: 'another-secret', sessionId: SESSION, exp: 1 });
    expect(await verifier.verify(token, SESSION)).toEqual(unauthenticated('invalid token signature'));
  });

  it('refuses an expired token before looking at the session', async () => {
    const token = await signToken({
      secret: SECRET,
      sessionId: SESSION,
      exp: Math.floor(Date.now() / 1000) - 10,
    });
    expect(await verifier.verify(token, 'other-session')).toEqual(unauthenticated('token expired'));
  });

  describe('expiry boundary: expired only when now is strictly after exp', () => {
    const exp = 2_000_000_000;
    const at = (nowMs: number) => new TokenVerifier(SECRET, () => nowMs);

    it.each([
      ['one second before', exp * 1000 - 1000, undefined],
      ['1 ms before', exp * 1000 - 1, undefined],
      ['exactly at exp', exp * 1000, undefined],
      ['1 ms after', exp * 1000 + 1, unauthenticated('token expired')],
      ['one second after', exp * 1000 + 1000, unauthenticated('token expired')],
    ])('%s', async (_label, nowMs, expected) => {
      const token = await signToken({ secret: SECRET, sessionId: SESSION, exp });
      expect(await at(nowMs).verify(token, SESSION)).toEqual(expected);
    });

    it('handles a fractional exp the same way', async () => {
      const token = await signToken({ secret: SECRET, sessionId: SESSION, exp: exp + 0.5 });
      expect(await at(exp * 1000 + 500).verify(token, SESSION)).toBeUndefined();
      expect(await at(exp * 1000 + 501).verify(token, SESSION)).toEqual(unauthenticated('token expired'));
    });
  });

  it('refuses a session-id header that differs from the token', async () => {
    const token = await signToken({ secret: SECRET, sessionId: SESSION });
    expect(await verifier.verify(token, 'session-2')).toEqual(unauthenticated('session_id mismatch'));
  });

  it('never matches a missing session-id header, not even an empty session_id claim', async () => {
    const token = await signToken({ secret: SECRET, sessionId: SESSION });
    expect(await verifier.verify(token, undefined)).toEqual(unauthenticated('session_id mismatch'));
    const empty = await signToken({ secret: SECRET, sessionId: '' });
    expect(await verifier.verify(empty, undefined)).toEqual(unauthenticated('session_id mismatch'));
  });
});
