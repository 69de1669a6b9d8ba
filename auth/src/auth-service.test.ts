import { status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import type { StartedRedis } from '@stickygw/testkit';
import type { Redis } from 'ioredis';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningAuthService, startAuthService } from './auth-service.js';
import type { AuthConfig } from './config/load-config.js';
import { createLogger } from './logger.js';
import {
  createAuthClient,
  healthCheck,
  login,
  loginFailure,
  reflectionListServices,
} from './test-support/auth-client.js';
import { type AuthTestStack, startAuthTestStack } from './test-support/auth-test-stack.js';
import { hashPassword } from './users/password.js';

const SECRET = 'auth-service-test-secret';
// Small scrypt parameters keep the suite fast; the production default is tested in password.test.ts.
const FAST_SCRYPT = { cost: 1024, blockSize: 8, parallelization: 1 };

function config(redisUrl: string, overrides: Partial<AuthConfig> = {}): AuthConfig {
  return {
    port: 0,
    listenHost: '127.0.0.1',
    redisUrl,
    jwtSecret: SECRET,
    tokenExpirationMs: 3_600_000,
    seedTestUser: true,
    logLevel: 'silent',
    ...overrides,
  };
}

describe('auth service', () => {
  let redis: StartedRedis;
  let admin: Redis;
  let service: RunningAuthService;
  let client: MyServiceAPIClient;

  let stack: AuthTestStack;

  beforeAll(async () => {
    stack = await startAuthTestStack({ jwtSecret: SECRET, tokenExpirationMs: 3_600_000, seedTestUser: true });
    ({ redis, admin, service, client } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  describe('validation (REFERENCE.md 3.2 steps 2-3)', () => {
    it('refuses an empty username', async () => {
      expect(await loginFailure(client, { username: '', password: 'password', session_id: 's' })).toEqual({
        code: status.INVALID_ARGUMENT,
        details: 'username is required',
      });
    });

    it('checks the username before the session id', async () => {
      expect(await loginFailure(client, { username: '', password: '', session_id: '' })).toEqual({
        code: status.INVALID_ARGUMENT,
        details: 'username is required',
      });
    });

    it('refuses an empty session_id', async () => {
      expect(
        await loginFailure(client, { username: 'TestUser', password: 'TestPassword', session_id: '' }),
      ).toEqual({ code: status.INVALID_ARGUMENT, details: 'session_id is required' });
    });

    it('checks the session id before looking the user up', async () => {
      expect(await loginFailure(client, { username: 'nobody', password: 'x', session_id: '' })).toEqual({
        code: status.INVALID_ARGUMENT,
        details: 'session_id is required',
      });
    });

    it('trims nothing: a blank username is looked up as is', async () => {
      await admin.set('external_user: ', JSON.stringify({ password: 'pw', role: 'blank' }));
      const response = await login(client, { username: ' ', password: 'pw', session_id: ' ' });
      expect(response.role).toBe('blank');
      expect(decodeJwt(response.token)).toMatchObject({ login: ' ', session_id: ' ' });
    });
  });

  describe('credentials', () => {
    it('refuses an unknown user', async () => {
      expect(
        await loginFailure(client, {
          username: 'nonexistent_user_12345',
          password: 'password',
          session_id: 's',
        }),
      ).toEqual({ code: status.PERMISSION_DENIED, details: 'invalid username or password' });
    });

    it('refuses a wrong password', async () => {
      expect(
        await loginFailure(client, {
          username: 'TestUser',
          password: 'wrong_password_12345',
          session_id: 's',
        }),
      ).toEqual({ code: status.PERMISSION_DENIED, details: 'invalid username or password' });
    });

    it('logs TestUser in as admin (seeded at start-up)', async () => {
      const response = await login(client, {
        username: 'TestUser',
        password: 'TestPassword',
        session_id: 's1',
      });
      expect(response.role).toBe('admin');
      expect(await admin.get('external_user:TestUser')).toMatch(/"password":"scrypt\$/);
    });

    it('is case-sensitive about the login', async () => {
      expect(
        await loginFailure(client, { username: 'testuser', password: 'TestPassword', session_id: 's' }),
      ).toEqual({ code: status.PERMISSION_DENIED, details: 'invalid username or password' });
    });

    it('logs in a Redis user with a plain-text password', async () => {
      await admin.set('external_user:plain-user', JSON.stringify({ password: 'secret', role: 'user' }));
      const response = await login(client, { username: 'plain-user', password: 'secret', session_id: 's' });
      expect(response.role).toBe('user');
      expect(
        await loginFailure(client, { username: 'plain-user', password: 'secret2', session_id: 's' }),
      ).toMatchObject({ code: status.PERMISSION_DENIED });
    });

    it('matches an empty password with an empty stored password', async () => {
      await admin.set('external_user:no-password', JSON.stringify({ password: '', role: 'guest' }));
      expect((await login(client, { username: 'no-password', password: '', session_id: 's' })).role).toBe(
        'guest',
      );
    });

    it('logs in a Redis user with a scrypt-hashed password', async () => {
      const stored = await hashPassword('hashed-secret', FAST_SCRYPT);
      await admin.set(
        'external_user:hashed-user',
        JSON.stringify({ login: 'hashed-user', password: stored, role: 'ops' }),
      );
      const response = await login(client, {
        username: 'hashed-user',
        password: 'hashed-secret',
        session_id: 's',
      });
      expect(response.role).toBe('ops');
      expect(
        await loginFailure(client, { username: 'hashed-user', password: stored, session_id: 's' }),
      ).toEqual({ code: status.PERMISSION_DENIED, details: 'invalid username or password' });
    });

    it('reads property names case-insensitively and ignores unknown ones', async () => {
      await admin.set('external_user:mixed-case', '{"Password":"pw","ROLE":"auditor","Age":42}');
      expect((await login(client, { username: 'mixed-case', password: 'pw', session_id: 's' })).role).toBe(
        'auditor',
      );
    });

    it('uses the login only as a literal key, never as a pattern', async () => {
      await admin.set('external_user:literal1', JSON.stringify({ password: 'pw', role: 'user' }));
      expect(
        await loginFailure(client, { username: 'literal*', password: 'pw', session_id: 's' }),
      ).toMatchObject({
        code: status.PERMISSION_DENIED,
      });
      expect(
        await loginFailure(client, { username: 'literal?', password: 'pw', session_id: 's' }),
      ).toMatchObject({
        code: status.PERMISSION_DENIED,
      });
    });
  });

  describe('store errors', () => {
    it('answers INTERNAL "failed to get user" for a value that is not JSON', async () => {
      await admin.set('external_user:bad-json', '{"password": "pw"');
      expect(await loginFailure(client, { username: 'bad-json', password: 'pw', session_id: 's' })).toEqual({
        code: status.INTERNAL,
        details: 'failed to get user',
      });
    });

    it('answers INTERNAL "failed to get user" for a malformed scrypt hash', async () => {
      await admin.set('external_user:bad-hash', JSON.stringify({ password: 'scrypt$1$2$3', role: 'user' }));
      expect(await loginFailure(client, { username: 'bad-hash', password: 'pw', session_id: 's' })).toEqual({
        code: status.INTERNAL,
        details: 'failed to get user',
      });
    });

    it('answers INTERNAL "failed to get user" for a key of another Redis type', async () => {
      await admin.rpush('external_user:a-list', 'x');
      expect(await loginFailure(client, { username: 'a-list', password: 'pw', session_id: 's' })).toEqual({
        code: status.INTERNAL,
        details: 'failed to get user',
      });
    });
  });

  describe('token (REFERENCE.md 3.4)', () => {
    it('is an HS256 JWT with login, role, session_id, iat and exp; expires_at is exp', async () => {
      const before = Math.floor(Date.now() / 1000);
      const response = await login(client, {
        username: 'TestUser',
        password: 'TestPassword',
        session_id: 'integration-test-session-1',
      });
      const after = Math.floor(Date.now() / 1000);
      expect(decodeProtectedHeader(response.token)).toEqual({ alg: 'HS256', typ: 'JWT' });
      const { payload } = await jwtVerify(response.token, new TextEncoder().encode(SECRET), {
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'iat'],
      });
      expect(Object.keys(payload).sort()).toEqual(['exp', 'iat', 'login', 'role', 'session_id']);
      expect(payload).toMatchObject({
        login: 'TestUser',
        role: 'admin',
        session_id: 'integration-test-session-1',
      });
      const iat = payload.iat as number;
      expect(iat).toBeGreaterThanOrEqual(before);
      expect(iat).toBeLessThanOrEqual(after);
      expect(payload.exp).toBe(iat + 3600);
      expect(response.expires_at).toEqual({ seconds: String(payload.exp), nanos: 0 });
      expect(response.role).toBe('admin');
    });

    it('carries the requested username as login even when the record has none', async () => {
      await admin.set('external_user:no-login-field', JSON.stringify({ password: 'pw', role: 'user' }));
      const response = await login(client, { username: 'no-login-field', password: 'pw', session_id: 'abc' });
      expect(decodeJwt(response.token)).toMatchObject({
        login: 'no-login-field',
        role: 'user',
        session_id: 'abc',
      });
    });

    it('answers INTERNAL "failed to create token" when the token cannot be signed', async () => {
      // An empty HMAC key is refused by WebCrypto: the real signing path fails. Config never allows it.
      const unsigned = await startAuthService(
        config(redis.url, { jwtSecret: '', seedTestUser: false }),
        createLogger('silent'),
      );
      const unsignedClient = createAuthClient(unsigned.port);
      try {
        await admin.set('external_user:token-user', JSON.stringify({ password: 'pw', role: 'user' }));
        expect(
          await loginFailure(unsignedClient, { username: 'token-user', password: 'pw', session_id: 's' }),
        ).toEqual({ code: status.INTERNAL, details: 'failed to create token' });
      } finally {
        unsignedClient.close();
        await unsigned.stop();
      }
    });
  });

  describe('other services', () => {
    it('reports overall health SERVING', async () => {
      expect(await healthCheck(service.port)).toBe('SERVING');
    });

    it('serves reflection listing the contract and health', async () => {
      const listing = (await reflectionListServices(service.port)).toString('latin1');
      expect(listing).toContain('my_service.MyServiceAPI');
      expect(listing).toContain('grpc.health.v1.Health');
    });

    it('answers UNIMPLEMENTED for the contract methods it does not serve', async () => {
      const error = await new Promise<{ code: number }>((resolve) => {
        client.MyServiceEcho({ value: 'x' }, { deadline: new Date(Date.now() + 5_000) }, (err) =>
          resolve(err ?? { code: -1 }),
        );
      });
      expect(error.code).toBe(status.UNIMPLEMENTED);
    });
  });
});
