import type { StartedProcessStack } from '../../harness/started-process-stack.js';
import type { BookingTracker } from './booking-tracker.js';
import { type Random, sleep } from './random.js';

export interface ChaosStats {
  kills: number;
  terms: number;
  restarts: number;
  restartsOnNewPort: number;
  /** Gateway replicas SIGKILLed and started again (multi-gateway soak only). */
  gatewayKills: number;
  /** Times Redis was stopped and started again, empty (multi-gateway soak only). */
  redisRestarts: number;
  /** Chaos actions that failed (an instance that would not come back, ...): each is a finding. */
  readonly failures: string[];
}

/** At most this many instances are down at once, so the stack always has capacity left. */
const MAX_DOWN = 2;
/** Shares of the chaos actions that hit a gateway or Redis instead of an instance, with several gateways. */
const GATEWAY_KILL_SHARE = 0.15;
const REDIS_RESTART_SHARE = 0.1;

/**
 * Kills (mostly SIGKILL, sometimes SIGTERM) a random running worker or probe every `intervalMs` on
 * average, and starts it again with the same instance id after 0.2-1.5 s, on its old port or a new
 * one, waiting until the gateway has discovered it. With several gateways some actions instead
 * SIGKILL a gateway replica other than the first (the first is the one whose RSS and handles the
 * report measures) and start it again on its port, or stop Redis and start it again empty; at most
 * one of each at a time, and never a gateway kill while an instance is down. `stop()` waits for every
 * pending restart.
 */
export class ChaosLoop {
  readonly stats: ChaosStats = {
    kills: 0,
    terms: 0,
    restarts: 0,
    restartsOnNewPort: 0,
    gatewayKills: 0,
    redisRestarts: 0,
    failures: [],
  };
  readonly #down = new Set<string>();
  #gatewayDown = false;
  #redisDown = false;
  readonly #pending = new Set<Promise<void>>();
  #stopping = false;
  #loop: Promise<void> | undefined;

  constructor(
    private readonly stack: StartedProcessStack,
    private readonly tracker: BookingTracker,
    private readonly random: Random,
    private readonly intervalMs: number,
  ) {}

  get down(): number {
    return this.#down.size;
  }

  start(): void {
    if (this.intervalMs === 0) return;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      await sleep(this.random.int(this.intervalMs / 2, (this.intervalMs * 3) / 2));
      if (this.#stopping) continue;
      if (this.stack.gateways.length > 1) {
        const roll = this.random.next();
        if (roll < GATEWAY_KILL_SHARE) {
          // An instance restart waits until every running gateway has discovered it: a gateway
          // killed during that wait would fail the restart, so the two never overlap.
          if (!this.#gatewayDown && this.#down.size === 0) this.#gatewayChaos();
          continue;
        }
        if (roll < GATEWAY_KILL_SHARE + REDIS_RESTART_SHARE) {
          if (!this.#redisDown) this.#redisChaos();
          continue;
        }
      }
      if (this.#down.size >= MAX_DOWN || this.#gatewayDown) continue;
      const candidates = [...this.stack.pods(), ...this.stack.pods('probes')].filter(
        (pod) => this.stack.running(pod) && !this.#down.has(pod),
      );
      if (candidates.length === 0) continue;
      const victim = this.random.pick(candidates);
      const graceful = this.random.next() < 0.2;
      const downtimeMs = this.random.int(200, 1_500);
      const newPort = this.random.next() < 0.5;
      this.#down.add(victim);
      this.#track(victim, this.#cycle(victim, graceful, downtimeMs, newPort), () =>
        this.#down.delete(victim),
      );
    }
  }

  /** Keeps `action` pending until it ends; a failure is recorded under `name`. */
  #track(name: string, action: Promise<void>, done: () => void): void {
    const tracked = action
      .catch((error: unknown) => {
        this.stats.failures.push(
          `${name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
        );
      })
      .finally(() => {
        done();
        this.#pending.delete(tracked);
      });
    this.#pending.add(tracked);
  }

  #gatewayChaos(): void {
    const victim = this.random.pick(this.stack.gateways.slice(1));
    const downtimeMs = this.random.int(200, 1_500);
    this.#gatewayDown = true;
    this.#track(
      victim.name,
      (async () => {
        await victim.kill();
        this.stats.gatewayKills++;
        await sleep(downtimeMs);
        await victim.start();
      })(),
      () => {
        this.#gatewayDown = false;
      },
    );
  }

  #redisChaos(): void {
    const downtimeMs = this.random.int(200, 1_500);
    this.#redisDown = true;
    this.#track(
      'redis',
      (async () => {
        await this.stack.redis.stop();
        await sleep(downtimeMs);
        await this.stack.redis.start();
        this.stats.redisRestarts++;
      })(),
      () => {
        this.#redisDown = false;
      },
    );
  }

  async #cycle(pod: string, graceful: boolean, downtimeMs: number, newPort: boolean): Promise<void> {
    if (graceful) {
      await this.stack.instance(pod).stop();
      this.stats.terms++;
    } else {
      await this.stack.kill(pod);
      this.stats.kills++;
    }
    await sleep(downtimeMs);
    this.tracker.nextIncarnation(pod);
    await this.stack.restart(pod, { newPort });
    this.stats.restarts++;
    if (newPort) this.stats.restartsOnNewPort++;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#loop;
    await Promise.all([...this.#pending]);
  }
}
