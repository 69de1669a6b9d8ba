import type { StartedProcessStack } from '../../harness/started-process-stack.js';
import type { BookingTracker } from './booking-tracker.js';
import { type Random, sleep } from './random.js';

export interface ChaosStats {
  kills: number;
  terms: number;
  restarts: number;
  restartsOnNewPort: number;
  /** Chaos actions that failed (an instance that would not come back, ...): each is a finding. */
  readonly failures: string[];
}

/** At most this many instances are down at once, so the stack always has capacity left. */
const MAX_DOWN = 2;

/**
 * Kills (mostly SIGKILL, sometimes SIGTERM) a random running worker or probe every `intervalMs` on
 * average, and starts it again with the same instance id after 0.2-1.5 s, on its old port or a new
 * one, waiting until the gateway has discovered it. `stop()` waits for every pending restart.
 */
export class ChaosLoop {
  readonly stats: ChaosStats = { kills: 0, terms: 0, restarts: 0, restartsOnNewPort: 0, failures: [] };
  readonly #down = new Set<string>();
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
      if (this.#stopping || this.#down.size >= MAX_DOWN) continue;
      const candidates = [...this.stack.pods(), ...this.stack.pods('probes')].filter(
        (pod) => this.stack.running(pod) && !this.#down.has(pod),
      );
      if (candidates.length === 0) continue;
      const victim = this.random.pick(candidates);
      const graceful = this.random.next() < 0.2;
      const downtimeMs = this.random.int(200, 1_500);
      const newPort = this.random.next() < 0.5;
      this.#down.add(victim);
      const action = this.#cycle(victim, graceful, downtimeMs, newPort)
        .catch((error: unknown) => {
          this.stats.failures.push(
            `${victim}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
          );
        })
        .finally(() => {
          this.#down.delete(victim);
          this.#pending.delete(action);
        });
      this.#pending.add(action);
    }
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
