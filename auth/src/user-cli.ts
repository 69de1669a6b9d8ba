#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { ConfigError } from './config/config-error.js';
import { DEFAULT_REDIS_URL } from './config/load-config.js';
import { parseRedisUrl } from './config/redis-url.js';
import { hashPassword } from './users/password.js';
import { RedisUserStore } from './users/redis-user-store.js';

const USAGE = `Usage: auth-user [--redis <url>] set <login> <password> <role>

Creates or replaces the user <login> of the auth service (Redis key external_user:<login>),
storing the password as a salted scrypt hash. Pass "-" as <password> to read it from stdin
(keeps it out of the shell history and the process list).

Options:
  --redis <url>  Redis URL (default: $REDIS_ADDR, else ${DEFAULT_REDIS_URL})
  -h, --help     Show this help

Exit codes: 0 saved, 1 Redis could not be reached or written, 2 usage error.
`;

/** Wrong invocation: printed with a pointer to --help, exit code 2. */
class UsageError extends Error {}

interface SetCommand {
  readonly redisUrl: string;
  readonly login: string;
  readonly password: string;
  readonly role: string;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline comes from `echo` or the terminal, not from the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

const OPTIONS = { redis: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function parseCommand(argv: string[]): Promise<SetCommand | 'help'> {
  const parsed = parseFlags(argv);
  if (parsed.values.help === true) return 'help';
  const [command, login, password, role, ...extra] = parsed.positionals;
  if (command === undefined) throw new UsageError('missing command');
  if (command !== 'set') throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  if (login === undefined || password === undefined || role === undefined) {
    throw new UsageError('set needs <login> <password> <role>');
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (login === '') throw new UsageError('login must not be empty');
  if (role === '') throw new UsageError('role must not be empty');
  let redisUrl: string;
  try {
    redisUrl = parseRedisUrl(parsed.values.redis ?? (process.env.REDIS_ADDR || DEFAULT_REDIS_URL));
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  return { redisUrl, login, password: password === '-' ? await readStdin() : password, role };
}

async function saveUser(command: SetCommand): Promise<void> {
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
    const stored = await hashPassword(command.password);
    await new RedisUserStore(redis).saveUser(command.login, { password: stored, role: command.role });
    await redis.quit();
  } finally {
    redis.disconnect();
  }
}

async function main(argv: string[]): Promise<number> {
  let command: SetCommand | 'help';
  try {
    command = await parseCommand(argv);
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
    await saveUser(command);
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
