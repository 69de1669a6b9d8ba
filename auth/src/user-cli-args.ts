import { parseArgs } from 'node:util';
import type { Env } from '@stickygw/servicekit';
import { DEFAULT_REDIS_URL } from './config/load-config.js';
import { redisUrlProblem } from './config/redis-url.js';

export const USAGE = `Usage: auth-user [--redis <url>] set <login> <password> <role>

Creates or replaces the user <login> of the auth service (Redis key external_user:<login>),
storing the password as a salted scrypt hash. Pass "-" as <password> to read it from stdin
(keeps it out of the shell history and the process list).

Options:
  --redis <url>  Redis URL (default: $REDIS_ADDR, else ${DEFAULT_REDIS_URL})
  -h, --help     Show this help

Exit codes: 0 saved, 1 Redis could not be reached or written, 2 usage error.
`;

/** Wrong invocation of `auth-user`: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface SetUserCommand {
  readonly redisUrl: string;
  readonly login: string;
  /** `undefined` when the password is to be read from stdin (`-`). */
  readonly password: string | undefined;
  readonly role: string;
}

const OPTIONS = { redis: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Reads the command line of `auth-user`; throws {@link UsageError} for anything it cannot run. */
export function parseUserCliArgs(argv: string[], env: Env): SetUserCommand | 'help' {
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
  const redisUrl = parsed.values.redis ?? (env.REDIS_ADDR || DEFAULT_REDIS_URL);
  const problem = redisUrlProblem(redisUrl);
  if (problem !== undefined) throw new UsageError(problem);
  return { redisUrl, login, password: password === '-' ? undefined : password, role };
}
