import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { hashPassword } from './password.js';
import type { RedisUserStore } from './redis-user-store.js';

/** The reference's built-in account (REFERENCE.md 3.3), seeded into Redis instead of hard-coded. */
const TEST_USER = { login: 'TestUser', password: 'TestPassword', role: 'admin' } as const;

export interface TestUserSeederOptions {
  readonly redis: Redis;
  readonly store: RedisUserStore;
  readonly logger: Logger;
  /** Delay between attempts while Redis cannot take the write. */
  readonly retryMs?: number;
}

/**
 * Writes TestUser (as a scrypt hash) into Redis so that it logs in like the reference's built-in
 * user, without a special case in the store. A failed write is retried in the background until it
 * succeeds, and the user is written again after every reconnection: a Redis restarted without
 * persistence has lost it. Existing values are overwritten, as the built-in user always worked with
 * its fixed password.
 */
export class TestUserSeeder {
  private readonly retryMs: number;
  private storedPassword: Promise<string> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** A reconnection happened while an attempt was running: write again once it is done. */
  private rerun = false;
  private stopped = false;
  private warned = false;
  private seeded = false;
  private readonly firstSuccess: Promise<void>;
  private resolveFirstSuccess: () => void = () => {};
  private readonly onReady = () => void this.attempt();

  constructor(private readonly options: TestUserSeederOptions) {
    this.retryMs = options.retryMs ?? 1_000;
    this.firstSuccess = new Promise((resolve) => {
      this.resolveFirstSuccess = resolve;
    });
  }

  /**
   * Starts seeding. Resolves once the user is written, once Redis reports it is unreachable, or
   * after `waitMs`, whichever comes first; seeding goes on in the background until {@link stop}.
   * Start-up waits on this so that TestUser can log in as soon as the server listens.
   */
  start(waitMs: number): Promise<void> {
    const { redis } = this.options;
    redis.on('ready', this.onReady);
    if (redis.status === 'ready') void this.attempt();
    else this.scheduleRetry();
    let timer: NodeJS.Timeout | undefined;
    let onError: (() => void) | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      onError = resolve;
      timer = setTimeout(resolve, waitMs);
      redis.once('error', resolve);
    });
    return Promise.race([this.firstSuccess, gaveUp]).finally(() => {
      clearTimeout(timer);
      if (onError !== undefined) redis.off('error', onError);
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.options.redis.off('ready', this.onReady);
  }

  private scheduleRetry(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.attempt(), this.retryMs);
    // Seeding alone must not keep the process alive.
    this.timer.unref();
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = true;
    clearTimeout(this.timer);
    const { store, logger } = this.options;
    try {
      this.storedPassword ??= hashPassword(TEST_USER.password);
      await store.saveUser(TEST_USER.login, { password: await this.storedPassword, role: TEST_USER.role });
      this.warned = false;
      if (this.seeded) logger.debug({ login: TEST_USER.login }, 'test user seeded again');
      else logger.info({ login: TEST_USER.login }, 'test user seeded');
      this.seeded = true;
      this.resolveFirstSuccess();
    } catch (error) {
      if (!this.stopped) {
        if (this.warned) logger.debug({ err: error }, 'seeding the test user failed again');
        else logger.warn({ err: error, retryMs: this.retryMs }, 'could not seed the test user, retrying');
        this.warned = true;
        this.scheduleRetry();
      }
    } finally {
      this.running = false;
    }
    if (this.rerun) {
      this.rerun = false;
      void this.attempt();
    }
  }
}
