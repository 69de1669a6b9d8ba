import type { UserRecord } from './user-record.js';

/** Where Login looks users up. */
export interface UserStore {
  /**
   * The user stored under `login`, or `undefined` when there is none. Rejects when the store cannot
   * answer or the stored value is unreadable; Login turns that into INTERNAL `failed to get user`.
   */
  findUser(login: string): Promise<UserRecord | undefined>;
}
