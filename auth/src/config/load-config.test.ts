import { join } from 'node:path';
import { ConfigError, type Env } from '@stickygw/servicekit';
import { thrownBy, writeTempFiles } from '@stickygw/testkit';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.js';

const base: Env = { JWT_SECRET: 'secret' };

function refusal(env: Env): string {
  return thrownBy(ConfigError, () => loadConfig(env)).message;
}

describe('loadConfig', () => {
  it('applies the defaults', () => {
    expect(loadConfig(base)).toEqual({
      port: 5001,
      listenHost: '127.0.0.1',
      redisUrl: 'redis://localhost:6379',
      jwtSecret: 'secret',
      tokenExpirationMs: 3_600_000,
      seedTestUser: true,
      logLevel: 'info',
    });
  });

  it('reads every variable and returns a frozen object', () => {
    const config = loadConfig({
      SERVICE_PORT_GRPC: '6001',
      REDIS_ADDR: 'redis://user:pw@10.0.0.1:6380/2',
      JWT_SECRET: '  padded  ',
      TOKEN_EXPIRATION: '1h30m',
      LISTEN_HOST: '0.0.0.0',
      AUTH_SEED_TEST_USER: 'false',
      LOG_LEVEL: 'debug',
    });
    expect(config).toEqual({
      port: 6001,
      listenHost: '0.0.0.0',
      redisUrl: 'redis://user:pw@10.0.0.1:6380/2',
      jwtSecret: 'padded',
      tokenExpirationMs: 5_400_000,
      seedTestUser: false,
      logLevel: 'debug',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats empty values of defaulted variables as unset', () => {
    const config = loadConfig({ ...base, SERVICE_PORT_GRPC: '', REDIS_ADDR: '', TOKEN_EXPIRATION: '' });
    expect(config.port).toBe(5001);
    expect(config.redisUrl).toBe('redis://localhost:6379');
    expect(config.tokenExpirationMs).toBe(3_600_000);
  });

  it('accepts 1 and 0 for AUTH_SEED_TEST_USER', () => {
    expect(loadConfig({ ...base, AUTH_SEED_TEST_USER: '0' }).seedTestUser).toBe(false);
    expect(loadConfig({ ...base, AUTH_SEED_TEST_USER: 'TRUE' }).seedTestUser).toBe(true);
  });

  it('refuses a non-integer port', () => {
    expect(refusal({ ...base, SERVICE_PORT_GRPC: '50a1' })).toBe(
      'invalid SERVICE_PORT_GRPC: "50a1" is not an integer',
    );
  });

  it('refuses a port outside 1..65535', () => {
    expect(refusal({ ...base, SERVICE_PORT_GRPC: '0' })).toBe(
      'invalid SERVICE_PORT_GRPC: must be in 1..65535, got "0"',
    );
    expect(refusal({ ...base, SERVICE_PORT_GRPC: '65536' })).toBe(
      'invalid SERVICE_PORT_GRPC: must be in 1..65535, got "65536"',
    );
  });

  it('refuses a Redis address that is not a URL', () => {
    expect(refusal({ ...base, REDIS_ADDR: 'not a url' })).toBe('cant parse redis url: not a valid URL');
  });

  it('refuses a Redis URL with another scheme', () => {
    expect(refusal({ ...base, REDIS_ADDR: 'http://localhost:6379' })).toBe(
      'cant parse redis url: invalid URL scheme: http',
    );
  });

  it('refuses a Redis URL without a host', () => {
    expect(refusal({ ...base, REDIS_ADDR: 'redis://' })).toBe('cant parse redis url: missing host');
  });

  it('refuses a Redis URL with a bad database number, without echoing the password', () => {
    const message = refusal({ ...base, REDIS_ADDR: 'redis://u:hunter2@localhost:6379/abc' });
    expect(message).toBe('cant parse redis url: invalid database number: "abc"');
  });

  it('refuses a missing, empty or blank JWT_SECRET', () => {
    const message = 'JWT_SECRET is required and must not be empty';
    expect(refusal({})).toBe(message);
    expect(refusal({ JWT_SECRET: '' })).toBe(message);
    expect(refusal({ JWT_SECRET: ' \t ' })).toBe(message);
  });

  it('reads JWT_SECRET_FILE, and refuses it beside JWT_SECRET or unreadable, naming the variable only', () => {
    const {
      dir,
      paths: { jwt: file },
    } = writeTempFiles('auth-jwt-', { jwt: 'file-secret-value\n' });
    expect(loadConfig({ JWT_SECRET_FILE: file }).jwtSecret).toBe('file-secret-value');
    const both = refusal({ JWT_SECRET: 'inline-secret-value', JWT_SECRET_FILE: file });
    expect(both).toBe('JWT_SECRET and JWT_SECRET_FILE are both set: set only one of them');
    expect(both).not.toContain('secret-value');
    expect(refusal({ JWT_SECRET_FILE: join(dir, 'missing') })).toBe(
      `JWT_SECRET_FILE: cannot read ${join(dir, 'missing')}: ENOENT`,
    );
  });

  it('refuses an unparsable TOKEN_EXPIRATION', () => {
    expect(refusal({ ...base, TOKEN_EXPIRATION: 'soon' })).toBe(
      'invalid TOKEN_EXPIRATION: time: invalid duration "soon"',
    );
    expect(refusal({ ...base, TOKEN_EXPIRATION: '60' })).toBe(
      'invalid TOKEN_EXPIRATION: time: missing unit in duration "60"',
    );
  });

  it('refuses a zero or negative TOKEN_EXPIRATION', () => {
    expect(refusal({ ...base, TOKEN_EXPIRATION: '0s' })).toBe(
      'invalid TOKEN_EXPIRATION: must be greater than zero, got "0s"',
    );
    expect(refusal({ ...base, TOKEN_EXPIRATION: '-1h' })).toBe(
      'invalid TOKEN_EXPIRATION: must be greater than zero, got "-1h"',
    );
  });

  it('refuses an invalid AUTH_SEED_TEST_USER', () => {
    expect(refusal({ ...base, AUTH_SEED_TEST_USER: 'maybe' })).toBe(
      'invalid AUTH_SEED_TEST_USER: must be true or false, got "maybe"',
    );
  });

  it('refuses an unknown LOG_LEVEL', () => {
    expect(refusal({ ...base, LOG_LEVEL: 'loud' })).toBe(
      'invalid LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    );
  });

  it('reports every problem at once, in the reference order: port, Redis, TOKEN_EXPIRATION, the secret', () => {
    const problems = (env: Env) => refusal(env).split('\n');
    expect(problems({ SERVICE_PORT_GRPC: 'x', REDIS_ADDR: 'http://h', TOKEN_EXPIRATION: 'x' })).toEqual([
      'invalid SERVICE_PORT_GRPC: "x" is not an integer',
      'cant parse redis url: invalid URL scheme: http',
      'invalid TOKEN_EXPIRATION: time: invalid duration "x"',
      'JWT_SECRET is required and must not be empty',
    ]);
    expect(problems({ AUTH_SEED_TEST_USER: 'x', LOG_LEVEL: 'x' })).toEqual([
      'JWT_SECRET is required and must not be empty',
      'invalid AUTH_SEED_TEST_USER: must be true or false, got "x"',
      'invalid LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "x"',
    ]);
    expect(refusal({ TOKEN_EXPIRATION: 'x' })).toBe(
      'invalid TOKEN_EXPIRATION: time: invalid duration "x"\nJWT_SECRET is required and must not be empty',
    );
  });
});
