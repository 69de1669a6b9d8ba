import { Metadata, status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import type { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_LOGIN_FIELD_BYTES } from './login/login-service.js';
import { login, loginFailure } from './test-support/auth-client.js';
import { type AuthTestStack, startAuthTestStack } from './test-support/auth-test-stack.js';

/**
 * Hostile Login input (issue 6): logins are literal Redis key suffixes (no injection, no pattern
 * matching), and values a token could never carry are refused with a clear INVALID_ARGUMENT instead
 * of producing a token no gRPC peer accepts.
 */

function invalidArgument(details: string) {
  return { code: status.INVALID_ARGUMENT, details };
}
const INVALID_CREDENTIALS = { code: status.PERMISSION_DENIED, details: 'invalid username or password' };

describe('Login with hostile values', () => {
  let admin: Redis;
  let client: MyServiceAPIClient;

  let stack: AuthTestStack;

  beforeAll(async () => {
    // No seeding: the command statistics below must only show what Login itself sends.
    stack = await startAuthTestStack({ jwtSecret: 'hostile-login-secret' });
    ({ admin, client } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  beforeEach(async () => {
    await admin.flushall();
    await admin.set('external_user:alice', JSON.stringify({ password: 'pw', role: 'user' }));
    await admin.set(
      'instance:worker-1',
      JSON.stringify({ instance_id: 'worker-1', ipv4: '1.2.3.4', port: 1 }),
    );
    await admin.set('canary', 'still here');
  });

  /** Calls per Redis command since the last CONFIG RESETSTAT, without the inspecting client's own. */
  async function commandCalls(): Promise<Record<string, number>> {
    const info = await admin.info('commandstats');
    const calls: Record<string, number> = {};
    for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
      const name = match[1] as string;
      if (name === 'info' || name.startsWith('config')) continue;
      calls[name] = Number(match[2]);
    }
    return calls;
  }

  async function keyspace(): Promise<string[]> {
    return (await admin.keys('*')).sort();
  }

  it.each([
    ['a glob star', '*'],
    ['a glob prefix', 'ali*'],
    ['a glob question mark', 'alic?'],
    ['a glob class', '[a]lice'],
    ['a key separator', ':alice'],
    ['another prefix', '../instance:worker-1'],
    ['the key itself', 'external_user:alice'],
    ['a trailing separator', 'alice:'],
    ['RESP injection', 'x\r\nFLUSHALL\r\n'],
    ['inline command injection', '*1\r\n$8\r\nFLUSHALL\r\n'],
    ['a NUL byte', 'alice\u0000'],
    ['Lua', "'); redis.call('FLUSHALL') --"],
    ['unicode look-alike', 'аlice'],
  ])(
    'a login with %s is one literal GET: PERMISSION_DENIED, nothing else touched',
    async (_name, username) => {
      await admin.config('RESETSTAT');
      expect(await loginFailure(client, { username, password: 'pw', session_id: 's' })).toEqual(
        INVALID_CREDENTIALS,
      );
      expect(await commandCalls()).toEqual({ get: 1 });
      expect(await keyspace()).toEqual(['canary', 'external_user:alice', 'instance:worker-1']);
    },
  );

  it('users whose logins contain *, :, ? or [ ] log in only under their exact name', async () => {
    const logins = ['*', 'a:b', 'user:with:colons', 'q?', '[x]', '\\*'];
    for (const name of logins) {
      await admin.set(`external_user:${name}`, JSON.stringify({ password: `pw-${name}`, role: 'odd' }));
    }
    for (const name of logins) {
      const response = await login(client, { username: name, password: `pw-${name}`, session_id: 's' });
      expect(decodeJwt(response.token)).toMatchObject({ login: name, role: 'odd', session_id: 's' });
    }
    // `*` is a user of its own, not a wildcard: alice's password does not open it, and vice versa.
    expect(await loginFailure(client, { username: '*', password: 'pw', session_id: 's' })).toEqual(
      INVALID_CREDENTIALS,
    );
    expect(await loginFailure(client, { username: 'alice', password: 'pw-*', session_id: 's' })).toEqual(
      INVALID_CREDENTIALS,
    );
    expect(await loginFailure(client, { username: 'a:*', password: 'pw-a:b', session_id: 's' })).toEqual(
      INVALID_CREDENTIALS,
    );
  });

  it(`a username over ${MAX_LOGIN_FIELD_BYTES} bytes is refused before Redis is asked`, async () => {
    await admin.config('RESETSTAT');
    for (const username of [
      'u'.repeat(MAX_LOGIN_FIELD_BYTES + 1),
      'é'.repeat(MAX_LOGIN_FIELD_BYTES / 2 + 1),
      'u'.repeat(3_000_000),
    ]) {
      expect(await loginFailure(client, { username, password: 'pw', session_id: 's' })).toEqual(
        invalidArgument(`username must be at most ${MAX_LOGIN_FIELD_BYTES} bytes`),
      );
    }
    expect(await commandCalls()).toEqual({});
    const name = 'u'.repeat(MAX_LOGIN_FIELD_BYTES);
    await admin.set(`external_user:${name}`, JSON.stringify({ password: 'pw', role: 'long' }));
    expect((await login(client, { username: name, password: 'pw', session_id: 's' })).role).toBe('long');
  });

  it(`a session_id over ${MAX_LOGIN_FIELD_BYTES} bytes is refused: its token would not fit in metadata`, async () => {
    for (const sessionId of ['s'.repeat(MAX_LOGIN_FIELD_BYTES + 1), 's'.repeat(3_000_000)]) {
      expect(
        await loginFailure(client, { username: 'alice', password: 'pw', session_id: sessionId }),
      ).toEqual(invalidArgument(`session_id must be at most ${MAX_LOGIN_FIELD_BYTES} bytes`));
    }
    const sessionId = 's'.repeat(MAX_LOGIN_FIELD_BYTES);
    const response = await login(client, { username: 'alice', password: 'pw', session_id: sessionId });
    expect(decodeJwt(response.token).session_id).toBe(sessionId);
  });

  it.each([
    ['a newline', 'a\nb'],
    ['a tab', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['non-ASCII', 'séance'],
    ['an emoji', 'session-☃'],
  ])(
    'a session_id with %s is refused: no gRPC client can send it as the session-id header',
    async (_name, sessionId) => {
      expect(() => new Metadata().set('session-id', sessionId)).toThrow();
      expect(
        await loginFailure(client, { username: 'alice', password: 'pw', session_id: sessionId }),
      ).toEqual(invalidArgument('session_id must be printable ASCII'));
    },
  );

  it('a session_id of printable ASCII punctuation is fine (spaces, *, :, quotes)', async () => {
    const sessionId = ` *:"'<>{}[]|\\^~\`!@#$%&()+=,;? `;
    expect(() => new Metadata().set('session-id', sessionId)).not.toThrow();
    const response = await login(client, { username: 'alice', password: 'pw', session_id: sessionId });
    expect(decodeJwt(response.token).session_id).toBe(sessionId);
  });

  it('a 3 MB password is compared and refused promptly', async () => {
    const started = performance.now();
    expect(
      await loginFailure(client, { username: 'alice', password: 'p'.repeat(3_000_000), session_id: 's' }),
    ).toEqual(INVALID_CREDENTIALS);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('a request over the 4 MiB message limit is refused with RESOURCE_EXHAUSTED; Login keeps working', async () => {
    const failure = await loginFailure(client, {
      username: 'alice',
      password: 'p'.repeat(5 * 1024 * 1024),
      session_id: 's',
    });
    expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
    expect((await login(client, { username: 'alice', password: 'pw', session_id: 's' })).role).toBe('user');
  });
});
