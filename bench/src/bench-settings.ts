/** How long and how often `make bench` measures; each can be overridden from the environment. */
export interface BenchSettings {
  /** BENCH_SECONDS: duration of each c=8 m=32 run. */
  readonly throughputSeconds: number;
  /** BENCH_LATENCY_SECONDS: duration of each c=1 m=1 run (after a 1 s h2load warm-up). */
  readonly latencySeconds: number;
  /** BENCH_REPETITIONS */
  readonly repetitions: number;
  /** BENCH_TARGETS: comma-separated target ids to run (default all). */
  readonly targets: readonly string[] | undefined;
  /** BENCH_SCENARIOS: comma-separated among sticky,idle,kill,store (default all). */
  readonly scenarios: readonly string[];
  /** BENCH_SESSIONS: distinct sessions of the sticky scenario. */
  readonly sessions: number;
  /** BENCH_IDLE_STREAMS */
  readonly idleStreams: number;
  /** BENCH_RESULTS_DIR: where latest.md/latest.json go (default bench/results). */
  readonly resultsDir: string | undefined;
}

const SCENARIOS = ['sticky', 'idle', 'kill', 'store'];

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

function list(env: NodeJS.ProcessEnv, name: string): string[] | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * Defaults keep the whole `make bench` under 10 minutes on a 2-core machine: 6 targets × 3
 * repetitions × (3 sizes × 4 s + 3 s) plus the own-generator scenarios.
 */
export function readBenchSettings(env: NodeJS.ProcessEnv): BenchSettings {
  const scenarios = list(env, 'BENCH_SCENARIOS') ?? SCENARIOS;
  const unknown = scenarios.filter((scenario) => !SCENARIOS.includes(scenario));
  if (unknown.length > 0) {
    throw new Error(`BENCH_SCENARIOS must list among ${SCENARIOS.join(',')}, got "${unknown.join(',')}"`);
  }
  return {
    throughputSeconds: positiveInteger(env, 'BENCH_SECONDS', 4),
    latencySeconds: positiveInteger(env, 'BENCH_LATENCY_SECONDS', 3),
    repetitions: positiveInteger(env, 'BENCH_REPETITIONS', 3),
    targets: list(env, 'BENCH_TARGETS'),
    scenarios,
    sessions: positiveInteger(env, 'BENCH_SESSIONS', 1000),
    idleStreams: positiveInteger(env, 'BENCH_IDLE_STREAMS', 10_000),
    resultsDir: env.BENCH_RESULTS_DIR?.trim() || undefined,
  };
}
