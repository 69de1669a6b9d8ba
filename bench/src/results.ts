import type { BenchSettings } from './bench-settings.js';
import type { MachineDescription } from './machine.js';
import type { BackendKillResult } from './scenarios/backend-kill.js';
import type { IdleStreamsResult } from './scenarios/idle-streams.js';
import type { SessionStoreResult } from './scenarios/session-store.js';
import type { StickySessionsResult } from './scenarios/sticky-sessions.js';

/** The message sizes of the c=8 m=32 runs (payload bytes, without the 5-byte gRPC prefix). */
export const SIZES = [
  { key: '20B', label: '20 B', bytes: 20 },
  { key: '1KiB', label: '1 KiB', bytes: 1024 },
  { key: '64KiB', label: '64 KiB', bytes: 65_536 },
] as const;
export type SizeKey = (typeof SIZES)[number]['key'];

/** One h2load run at c=8 m=32. */
export interface ThroughputRun {
  readonly repetition: number;
  readonly requestsPerSecond: number;
  /** Response DATA bytes per second, in MiB. */
  readonly mibPerSecond: number;
  readonly requests: number;
  /** h2load's failed + errored + timeout, plus answers that were not HTTP 2xx. */
  readonly failures: number;
  /**
   * Response DATA bytes per completed request ÷ request body bytes: about 1 for an echo (a little
   * more from calls still in flight at the end). Well below 1 means truncated responses, which
   * h2load would still count as successes.
   */
  readonly echoedFraction: number;
  /** CPU (user + system) of the proxy process(es) per request, µs; undefined for the backend direct. */
  readonly proxyCpuMicrosPerRequest: number | undefined;
  readonly backendCpuMicrosPerRequest: number;
}

/** One h2load run at c=1 m=1 (after a 1 s warm-up), latencies from its per-request log. */
export interface LatencyRun {
  readonly repetition: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
}

export interface TargetResults {
  readonly id: string;
  readonly label: string;
  readonly throughput: Record<SizeKey, ThroughputRun[]>;
  readonly latency: LatencyRun[];
  /** Proxy RSS after all runs, bytes. */
  rssBytes: number | undefined;
}

export interface Failed {
  readonly target: string;
  readonly error: string;
}

export interface BenchResults {
  readonly generatedAt: string;
  readonly settings: BenchSettings;
  readonly machine: MachineDescription;
  readonly targets: TargetResults[];
  /** Targets that could not run, and why (a missing binary, a gateway that is not built, ...). */
  readonly unavailable: { id: string; reason: string }[];
  stickySessions: StickySessionsResult | Failed | undefined;
  /** Issue 11: the Redis session store against the memory store, and GATEWAY_WORKERS=2 against 1. */
  sessionStore: SessionStoreResult | Failed | undefined;
  readonly idleStreams: (IdleStreamsResult | Failed)[];
  readonly backendKill: (BackendKillResult | Failed)[];
  /** Runs that failed (h2load could not run or parse); the run is then missing from its target. */
  readonly runErrors: string[];
  /**
   * Targets that took long to answer a call again after a run (the harness waits for that before
   * the next run, so no run starts on a target still busy with the previous one).
   */
  readonly slowRecoveries: { target: string; after: string; ms: number }[];
  wallSeconds: number;
  loadAverageAtEnd: number;
}

export function isFailed(value: object): value is Failed {
  return 'error' in value && typeof (value as { error: unknown }).error === 'string';
}
