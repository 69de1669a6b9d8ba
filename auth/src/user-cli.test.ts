import { status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { getFreePort, ManagedProcess, type StartedRedis } from '@stickygw/testkit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, loginFailure } from './test-support/auth-client.js';
import { type AuthTestStack, startAuthTestStack } from './test-support/auth-test-stack.js';
import { distFile } from './test-support/dist-file.js';

const cli = () => distFile('user-cli.js');

async function runCli(args: string[], stdin?: string) {
  const cliProcess = ManagedProcess.start({
    name: 'auth-user',
    command: process.execPath,
    args: [cli(), ...args],
    ...(stdin === undefined ? {} : { input: stdin }),
  });
  try {
    const exit = await cliProcess.waitForExit();
    return { code: exit.code, stdout: cliProcess.stdout(), stderr: cliProcess.stderr() };
  } finally {
    await cliProcess.kill();
  }
}

describe.concurrent('auth-user CLI usage', () => {
  it('prints the usage with --help and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: auth-user \[--redis <url>\] set <login> <password> <role>\n/);
    expect(result.stderr).toBe('');
  });

  it('exits 2 with a pointer to --help for a usage error', async () => {
    const result = await runCli(['set', 'bob', 'pw']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'auth-user: set needs <login> <password> <role>\nRun "auth-user --help" for usage.\n',
    );
  });

  it('exits 1 when Redis cannot be reached', async () => {
    const port = await getFreePort();
    const result = await runCli(['--redis', `redis://127.0.0.1:${port}`, 'set', 'bob', 'pw', 'user']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `auth-user: cannot save the user: cannot reach Redis: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
  });
});

describe('auth-user CLI against Redis', () => {
  let redis: StartedRedis;
  let admin: Redis;
  let client: MyServiceAPIClient;

  let stack: AuthTestStack;

  beforeAll(async () => {
    stack = await startAuthTestStack({ jwtSecret: 'cli-secret' });
    ({ redis, admin, client } = stack);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('stores a scrypt hash for a user who can then log in, and updates it', async () => {
    const created = await runCli(['--redis', redis.url, 'set', 'carol', 'first-pw', 'user']);
    expect(created).toEqual({ code: 0, stdout: 'user "carol" saved with role "user"\n', stderr: '' });
    const stored = JSON.parse((await admin.get('external_user:carol')) ?? 'null');
    expect(stored).toMatchObject({ login: 'carol', role: 'user' });
    expect(stored.password).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect((await login(client, { username: 'carol', password: 'first-pw', session_id: 's' })).role).toBe(
      'user',
    );

    const updated = await runCli(['--redis', redis.url, 'set', 'carol', 'second-pw', 'admin']);
    expect(updated.code).toBe(0);
    expect(await loginFailure(client, { username: 'carol', password: 'first-pw', session_id: 's' })).toEqual({
      code: status.PERMISSION_DENIED,
      details: 'invalid username or password',
    });
    expect((await login(client, { username: 'carol', password: 'second-pw', session_id: 's' })).role).toBe(
      'admin',
    );
  });

  it('reads the password from stdin when it is "-"', async () => {
    const result = await runCli(['set', 'dave', '-', 'ops', '--redis', redis.url], 'stdin secret\n');
    expect(result.code).toBe(0);
    expect((await login(client, { username: 'dave', password: 'stdin secret', session_id: 's' })).role).toBe(
      'ops',
    );
  });
});
