import { describe, expect, it } from 'vitest';
import { parseUserCliArgs } from './user-cli-args.js';

describe('parseUserCliArgs', () => {
  it('reads a set command with --redis before or after it', () => {
    const expected = { redisUrl: 'redis://h:1', login: 'bob', password: 'pw', role: 'user' };
    expect(parseUserCliArgs(['--redis', 'redis://h:1', 'set', 'bob', 'pw', 'user'], {})).toEqual(expected);
    expect(parseUserCliArgs(['set', 'bob', 'pw', 'user', '--redis=redis://h:1'], {})).toEqual(expected);
  });

  it('defaults the Redis URL to REDIS_ADDR, then to localhost', () => {
    expect(parseUserCliArgs(['set', 'a', 'b', 'c'], { REDIS_ADDR: 'redis://env:2' })).toMatchObject({
      redisUrl: 'redis://env:2',
    });
    expect(parseUserCliArgs(['set', 'a', 'b', 'c'], {})).toMatchObject({
      redisUrl: 'redis://localhost:6379',
    });
  });

  it('marks "-" as a password to read from stdin, and keeps an empty password', () => {
    expect(parseUserCliArgs(['set', 'a', '-', 'c'], {})).toMatchObject({ password: undefined });
    expect(parseUserCliArgs(['set', 'a', '', 'c'], {})).toMatchObject({ password: '' });
  });

  it('answers help to --help and -h', () => {
    expect(parseUserCliArgs(['--help'], {})).toBe('help');
    expect(parseUserCliArgs(['set', '-h'], {})).toBe('help');
  });

  it.each([
    [[], 'missing command'],
    [['delete', 'bob'], 'unknown command "delete"'],
    [['set', 'bob', 'pw'], 'set needs <login> <password> <role>'],
    [['set', 'bob', 'pw', 'user', 'extra'], 'unexpected argument "extra"'],
    [['set', '', 'pw', 'user'], 'login must not be empty'],
    [['set', 'bob', 'pw', ''], 'role must not be empty'],
    [
      ['--redis', 'http://localhost', 'set', 'bob', 'pw', 'user'],
      'cant parse redis url: invalid URL scheme: http',
    ],
    [['--bogus', 'set', 'bob', 'pw', 'user'], "Unknown option '--bogus'"],
    [['--redis'], "Option '--redis <value>' argument missing"],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseUserCliArgs(argv, {})).toThrow(message);
  });
});
