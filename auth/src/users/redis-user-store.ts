import type { Redis } from 'ioredis';
import { parseUserRecord, type UserRecord } from './user-record.js';
import type { UserStore } from './user-store.js';

/**
 * Key of a user (REFERENCE.md 3.3). The login is only ever used as a literal key suffix, never in a
 * pattern (no KEYS/SCAN), so characters such as `*` or `:` in a login carry no special meaning.
 */
function userKey(login: string): string {
  return `external_user:${login}`;
}

/** A user to write: `password` is the stored form (a `scrypt$...` hash, or plain text). */
export interface NewUser {
  readonly password: string;
  readonly role: string;
}

/** Users as JSON strings under `external_user:<login>`. */
export class RedisUserStore implements UserStore {
  constructor(private readonly redis: Redis) {}

  async findUser(login: string): Promise<UserRecord | undefined> {
    const json = await this.redis.get(userKey(login));
    return json === null ? undefined : parseUserRecord(json);
  }

  /** Creates or replaces a user. */
  async saveUser(login: string, user: NewUser): Promise<void> {
    await this.redis.set(userKey(login), JSON.stringify({ login, password: user.password, role: user.role }));
  }
}
