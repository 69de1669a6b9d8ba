#!/usr/bin/env node
import { Redis } from 'ioredis';
import { parseUserCliArgs, type SetUserCommand, USAGE, UsageError } from './user-cli-args.js';
import { hashPassword } from './users/password.js';
import { RedisUserStore } from './users/redis-user-store.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline comes from `echo` or the terminal, not from the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function saveUser(command: SetUserCommand, password: string): Promise<void> {
  // One connection attempt with bounded timeouts: a CLI reports an unreachable Redis, it does not wait.
  const redis = new Redis(command.redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 3_000,
    commandTimeout: 3_000,
    retryStrategy: () => null,
  });
  // The connection error names the cause (ECONNREFUSED, ...); connect() itself only says it closed.
  let connectionError: Error | undefined;
  redis.on('error', (error: Error) => {
    connectionError = error;
  });
  try {
    try {
      await redis.connect();
    } catch (error) {
      throw new Error(`cannot reach Redis: ${(connectionError ?? (error as Error)).message}`);
    }
    const stored = await hashPassword(password);
    await new RedisUserStore(redis).saveUser(command.login, { password: stored, role: command.role });
    await redis.quit();
  } finally {
    // After a failed connection the client has ended; disconnecting again would arm a 2 s timer
    // in ioredis that keeps the process alive.
    if (redis.status !== 'end') redis.disconnect();
  }
}

async function main(argv: string[]): Promise<number> {
  let command: SetUserCommand | 'help';
  try {
    command = parseUserCliArgs(argv, process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`auth-user: ${error.message}\nRun "auth-user --help" for usage.\n`);
    return 2;
  }
  if (command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    await saveUser(command, command.password ?? (await readStdin()));
  } catch (error) {
    process.stderr.write(`auth-user: cannot save the user: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(
    `user ${JSON.stringify(command.login)} saved with role ${JSON.stringify(command.role)}\n`,
  );
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
