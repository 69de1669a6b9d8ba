import type { HealthCheckConfig } from '../config/types.js';
import type { HealthCheckOutcome } from '../upstream/health-check-call.js';
import type { Endpoint } from './endpoint.js';

/** One instance's check history. */
interface CheckState {
  healthy: boolean;
  /** Outcomes in a row that disagree with `healthy` (reset by one that agrees). */
  streak: number;
  inFlight: boolean;
  /** The last failed check's outcome. */
  lastFailure: { readonly reason: string; readonly answered: boolean } | undefined;
}

/**
 * `failure` (when it turned unhealthy): the last failed check's reason, and whether the instance
 * answered it at all.
 */
export type HealthChangeListener = (
  endpointId: string,
  healthy: boolean,
  failure: { readonly reason: string; readonly answered: boolean } | undefined,
) => void;

/**
 * Active health checks of one cluster's instances (Envoy's `health_checks`): every `intervalMs`
 * each instance gets one check, unless its previous one is still running (a frozen instance then
 * counts one failure per timeout, not a pile of parallel checks). `unhealthyThreshold` failures in a
 * row mark it unhealthy, `healthyThreshold` successes in a row healthy again; each change is told to
 * the listener. A new instance starts healthy, so start-up and a scale-out wait for no check.
 * Runs on an unref'd timer, never inside a request.
 */
export class HealthChecker {
  private readonly states = new Map<string, CheckState>();
  private endpoints: readonly Endpoint[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: HealthCheckConfig,
    private readonly check: (endpoint: Endpoint) => Promise<HealthCheckOutcome>,
    private readonly onChange: HealthChangeListener,
  ) {}

  /** The instances to check from now on; the history of those that stay is kept. */
  track(endpoints: readonly Endpoint[]): void {
    this.endpoints = endpoints;
    const ids = new Set(endpoints.map((endpoint) => endpoint.id));
    for (const id of this.states.keys()) if (!ids.has(id)) this.states.delete(id);
    for (const id of ids)
      if (!this.states.has(id))
        this.states.set(id, { healthy: true, streak: 0, inFlight: false, lastFailure: undefined });
  }

  isHealthy(endpointId: string): boolean {
    return this.states.get(endpointId)?.healthy ?? true;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.round(), this.config.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.states.clear();
  }

  /** One check of every tracked instance that has none running (exposed for tests driving rounds). */
  round(): void {
    for (const endpoint of this.endpoints) {
      const state = this.states.get(endpoint.id);
      if (state === undefined || state.inFlight) continue;
      state.inFlight = true;
      // An injected check that throws counts as an instance that did not answer.
      void this.check(endpoint).then(
        (outcome) => this.record(endpoint.id, state, outcome),
        (err: unknown) =>
          this.record(endpoint.id, state, { healthy: false, reason: String(err), answered: false }),
      );
    }
  }

  private record(id: string, state: CheckState, outcome: HealthCheckOutcome): void {
    state.inFlight = false;
    // Stopped, or the instance left (or came back as a new state) while its check ran.
    if (this.states.get(id) !== state) return;
    if (!outcome.healthy) state.lastFailure = { reason: outcome.reason, answered: outcome.answered };
    if (outcome.healthy === state.healthy) {
      state.streak = 0;
      return;
    }
    state.streak++;
    const threshold = state.healthy ? this.config.unhealthyThreshold : this.config.healthyThreshold;
    if (state.streak < threshold) return;
    state.healthy = outcome.healthy;
    state.streak = 0;
    this.onChange(id, state.healthy, state.healthy ? undefined : state.lastFailure);
  }
}
