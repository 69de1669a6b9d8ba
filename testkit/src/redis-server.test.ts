import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedRedis, startRedis } from './redis-server.js';

function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(`${line}\r\n`));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('error', reject);
  });
}

describe('startRedis', () => {
  let redis: StartedRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('serves on loopback and survives a restart on the same port', async () => {
    expect(await command(redis.port, 'SET k v')).toBe('+OK\r\n');
    await redis.restart();
    expect(await command(redis.port, 'GET k')).toBe('$-1\r\n');
  });
});

describe('startRedis with a password and ACL users', () => {
  let redis: StartedRedis;
  beforeAll(async () => {
    redis = await startRedis({
      password: 'admin-pass',
      acl: 'user reader on >reader-pass resetkeys ~public:* resetchannels -@all +get +auth +ping',
    });
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('refuses anonymous commands, lets the default user in with the password, and holds users to their rules', async () => {
    expect(await command(redis.port, 'GET k')).toMatch(/^-NOAUTH/);
    expect(redis.url).toBe(`redis://:admin-pass@127.0.0.1:${redis.port}`);
    expect(redis.urlFor('reader', 'reader-pass')).toBe(`redis://reader:reader-pass@127.0.0.1:${redis.port}`);
    const session = (lines: string[]) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: redis.port }, () =>
          socket.write(lines.map((line) => `${line}\r\n`).join('')),
        );
        let text = '';
        socket.on('data', (data) => {
          text += data.toString();
          if (text.split('\r\n').length > lines.length) {
            socket.destroy();
            resolve(text);
          }
        });
        socket.once('error', reject);
      });
    expect(await session(['AUTH admin-pass', 'SET public:a 1'])).toBe('+OK\r\n+OK\r\n');
    const reader = await session(['AUTH reader reader-pass', 'GET public:a', 'GET private:b']);
    expect(reader).toMatch(/^\+OK\r\n\$1\r\n1\r\n-NOPERM/);
    await redis.restart();
    expect(await command(redis.port, 'PING')).toMatch(/^-NOAUTH/);
  });
});
