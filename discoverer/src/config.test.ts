import { join } from 'node:path';
import { ConfigError } from '@stickygw/servicekit';
import { thrownBy, writeTempFiles } from '@stickygw/testkit';
import { describe, expect, it } from 'vitest';
import { describeRedisUrl, loadConfig } from './config.js';

const valid = { REDIS_ADDR: 'redis://redis:6379', SERVICE_PORT_HTTP: '8080' };

const problemsOf = (env: Record<string, string>): readonly string[] =>
  thrownBy(ConfigError, () => loadConfig(env)).problems;

describe('loadConfig', () => {
  it('reads the reference variables, with LISTEN_HOST 127.0.0.1 and LOG_LEVEL info by default', () => {
    const config = loadConfig(valid);
    expect(config).toEqual({
      redisUrl: 'redis://redis:6379',
      port: 8080,
      listenHost: '127.0.0.1',
      logLevel: 'info',
      writeTokens: [],
      readTokens: [],
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes LISTEN_HOST and LOG_LEVEL, rediss:// and a bare host:port', () => {
    expect(loadConfig({ ...valid, LISTEN_HOST: '0.0.0.0', LOG_LEVEL: 'debug' })).toMatchObject({
      listenHost: '0.0.0.0',
      logLevel: 'debug',
    });
    expect(loadConfig({ ...valid, REDIS_ADDR: 'rediss://u:p@redis:6380/2' }).redisUrl).toBe(
      'rediss://u:p@redis:6380/2',
    );
    expect(loadConfig({ ...valid, REDIS_ADDR: 'localhost:6379' }).redisUrl).toBe('redis://localhost:6379');
  });

  it.each([
    [{ SERVICE_PORT_HTTP: '8080' }, ['REDIS_ADDR is required']],
    [{ REDIS_ADDR: '', SERVICE_PORT_HTTP: '8080' }, ['REDIS_ADDR is required']],
    [{ REDIS_ADDR: 'redis://r:6379' }, ['SERVICE_PORT_HTTP is required']],
    [{}, ['REDIS_ADDR is required', 'SERVICE_PORT_HTTP is required']],
    [{ ...valid, SERVICE_PORT_HTTP: 'abc' }, ['invalid SERVICE_PORT_HTTP: "abc" is not an integer']],
    [{ ...valid, SERVICE_PORT_HTTP: '80.5' }, ['invalid SERVICE_PORT_HTTP: "80.5" is not an integer']],
    [{ ...valid, SERVICE_PORT_HTTP: ' 8080' }, ['invalid SERVICE_PORT_HTTP: " 8080" is not an integer']],
    [{ ...valid, SERVICE_PORT_HTTP: '0' }, ['invalid SERVICE_PORT_HTTP: 0 is out of range 1..65535']],
    [{ ...valid, SERVICE_PORT_HTTP: '-1' }, ['invalid SERVICE_PORT_HTTP: -1 is out of range 1..65535']],
    [{ ...valid, SERVICE_PORT_HTTP: '65536' }, ['invalid SERVICE_PORT_HTTP: 65536 is out of range 1..65535']],
    [
      { ...valid, REDIS_ADDR: 'http://redis:6379' },
      ['invalid REDIS_ADDR: scheme must be redis:// or rediss://, got http://'],
    ],
    [{ ...valid, REDIS_ADDR: 'redis://' }, ['invalid REDIS_ADDR: host is missing']],
    [
      { ...valid, REDIS_ADDR: 'redis://[::1' },
      ['invalid REDIS_ADDR: cannot parse "redis://[::1" as redis://host:port'],
    ],
    [
      { ...valid, LOG_LEVEL: 'loud' },
      ['invalid LOG_LEVEL: "loud" is not one of fatal, error, warn, info, debug, trace, silent'],
    ],
    [
      { REDIS_ADDR: 'ftp://x', SERVICE_PORT_HTTP: 'x', LOG_LEVEL: 'loud' },
      [
        'invalid REDIS_ADDR: scheme must be redis:// or rediss://, got ftp://',
        'invalid SERVICE_PORT_HTTP: "x" is not an integer',
        'invalid LOG_LEVEL: "loud" is not one of fatal, error, warn, info, debug, trace, silent',
      ],
    ],
  ])('%j → %j', (env, problems) => {
    expect(problemsOf(env)).toEqual(problems);
  });

  describe('tokens', () => {
    const {
      dir,
      paths: { token: tokenFile, empty },
    } = writeTempFiles('discoverer-config-', { token: 'file-token\n', empty: '\n' });

    it('reads DISCOVERER_TOKEN and DISCOVERER_READ_TOKEN inline or from files, several separated by commas', () => {
      expect(
        loadConfig({ ...valid, DISCOVERER_TOKEN: 'team-a, team-b', DISCOVERER_READ_TOKEN_FILE: tokenFile }),
      ).toMatchObject({ writeTokens: ['team-a', 'team-b'], readTokens: ['file-token'] });
      expect(loadConfig({ ...valid, DISCOVERER_TOKEN_FILE: tokenFile }).writeTokens).toEqual(['file-token']);
    });

    it('refuses both forms at once, unreadable or empty files and a read token alone, naming the variables', () => {
      expect(
        problemsOf({
          ...valid,
          DISCOVERER_TOKEN: 'inline-secret',
          DISCOVERER_TOKEN_FILE: tokenFile,
          DISCOVERER_READ_TOKEN_FILE: join(dir, 'missing'),
        }),
      ).toEqual([
        'DISCOVERER_TOKEN and DISCOVERER_TOKEN_FILE are both set: set only one of them',
        `DISCOVERER_READ_TOKEN_FILE: cannot read ${join(dir, 'missing')}: ENOENT`,
      ]);
      expect(problemsOf({ ...valid, DISCOVERER_TOKEN_FILE: empty })).toEqual([
        `DISCOVERER_TOKEN_FILE: ${empty} is empty`,
      ]);
      expect(problemsOf({ ...valid, DISCOVERER_READ_TOKEN: 'reader' })).toEqual([
        'DISCOVERER_READ_TOKEN is set without DISCOVERER_TOKEN: anyone could register but not list',
      ]);
      expect(
        problemsOf({ REDIS_ADDR: 'ftp://x', SERVICE_PORT_HTTP: '1', DISCOVERER_TOKEN_FILE: empty }),
      ).toEqual([
        'invalid REDIS_ADDR: scheme must be redis:// or rediss://, got ftp://',
        `DISCOVERER_TOKEN_FILE: ${empty} is empty`,
      ]);
    });
  });

  it('describeRedisUrl hides the password', () => {
    expect(describeRedisUrl('redis://user:secret@redis:6379/1')).toBe('redis://user:***@redis:6379/1');
    expect(describeRedisUrl('redis://redis:6379')).toBe('redis://redis:6379');
  });
});
