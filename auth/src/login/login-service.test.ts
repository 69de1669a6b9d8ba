import { status } from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthError } from '../auth-error.js';
import { toGrpcStatus } from '../grpc/to-grpc-status.js';
import { createLogger } from '../logger.js';
import { type StoredPassword, verifyPassword } from '../users/password.js';
import { RedisUserStore } from '../users/redis-user-store.js';
import { LoginService } from './login-service.js';
import { JwtTokenIssuer } from './token-issuer.js';

// Step 1 of REFERENCE.md 3.2 cannot be sent over the wire (an empty message decodes to an empty
// request), so it is checked in-process. The store never connects: the check comes first.
describe('LoginService', () => {
  const redis = new Redis({ lazyConnect: true });
  const service = new LoginService({
    users: new RedisUserStore(redis),
    tokens: new JwtTokenIssuer('secret', 60_000),
    logger: createLogger('silent'),
  });

  afterAll(() => redis.disconnect());

  it.each([null, undefined])(
    'answers INVALID_ARGUMENT "request is nil" for a %s request',
    async (request) => {
      const error = await service.login(request).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AuthError);
      expect(toGrpcStatus(error)).toEqual({ code: status.INVALID_ARGUMENT, details: 'request is nil' });
    },
  );
});

describe('LoginService with an unknown user', () => {
  it('runs a scrypt check anyway, so timing does not reveal which usernames exist', async () => {
    const checked: StoredPassword['kind'][] = [];
    const service = new LoginService({
      users: { findUser: async () => undefined },
      tokens: new JwtTokenIssuer('secret', 60_000),
      logger: createLogger('silent'),
      verifyPassword: (stored, candidate) => {
        checked.push(stored.kind);
        return verifyPassword(stored, candidate);
      },
    });
    const error = await service
      .login({ username: 'nobody', password: 'guess', session_id: 's-1' })
      .catch((caught: unknown) => caught);
    expect(toGrpcStatus(error)).toEqual({
      code: status.PERMISSION_DENIED,
      details: 'invalid username or password',
    });
    expect(checked).toEqual(['scrypt']);
  });
});
