/** Settings of one soak run; every value has an environment variable (`make soak SOAK_SECONDS=300`). */
export interface SoakConfig {
  /** Length of the load phase (`SOAK_SECONDS`, default 180). */
  readonly seconds: number;
  /** Concurrent client sessions, each on its own connection (`SOAK_SESSIONS`, default 10). */
  readonly sessions: number;
  /** Worker instances (`SOAK_WORKERS`, default 5). */
  readonly workers: number;
  /** Probe instances for client-streaming and bidi calls (`SOAK_PROBES`, default 4). */
  readonly probes: number;
  /** Mean time between two chaos actions (`SOAK_CHAOS_INTERVAL_MS`, default 2500; 0 = no chaos). */
  readonly chaosIntervalMs: number;
  /** Deadline of every unary call; streams get twice as much (`SOAK_DEADLINE_MS`, default 5000). */
  readonly deadlineMs: number;
  /** Interval of the progress lines (`SOAK_PROGRESS_MS`, default 5000). */
  readonly progressMs: number;
  /** Seed of the random choices, to replay a run (`SOAK_SEED`, default: time based). */
  readonly seed: number;
  /** Also write the final report as JSON here (`SOAK_REPORT`). */
  readonly reportPath: string | undefined;
  /** Gateway access log on or off (`SOAK_ACCESS_LOG`, default false: it would dominate disk use). */
  readonly accessLog: boolean;
  /**
   * Gateway replicas over the stack's Redis session store (`SOAK_GATEWAYS`, default 1). With more than
   * one, every call enters through a random gateway and the chaos also kills gateways and restarts Redis.
   */
  readonly gateways: number;
}

export class SoakConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SoakConfigError(`${name} must be an integer ${min}..${max}, got "${raw}"`);
  }
  return value;
}

export function readSoakConfig(env: NodeJS.ProcessEnv): SoakConfig {
  const access = env.SOAK_ACCESS_LOG?.trim().toLowerCase();
  if (access !== undefined && access !== '' && access !== 'true' && access !== 'false') {
    throw new SoakConfigError(`SOAK_ACCESS_LOG must be true or false, got "${env.SOAK_ACCESS_LOG}"`);
  }
  return {
    seconds: integer(env, 'SOAK_SECONDS', 180, 1, 86_400),
    sessions: integer(env, 'SOAK_SESSIONS', 10, 1, 1_000),
    workers: integer(env, 'SOAK_WORKERS', 5, 1, 50),
    probes: integer(env, 'SOAK_PROBES', 4, 1, 50),
    chaosIntervalMs: integer(env, 'SOAK_CHAOS_INTERVAL_MS', 2_500, 0, 3_600_000),
    deadlineMs: integer(env, 'SOAK_DEADLINE_MS', 5_000, 100, 600_000),
    progressMs: integer(env, 'SOAK_PROGRESS_MS', 5_000, 100, 3_600_000),
    seed: integer(env, 'SOAK_SEED', Date.now() % 2_147_483_647, 0, 2_147_483_647),
    reportPath: env.SOAK_REPORT?.trim() || undefined,
    accessLog: access === 'true',
    gateways: integer(env, 'SOAK_GATEWAYS', 1, 1, 10),
  };
}
