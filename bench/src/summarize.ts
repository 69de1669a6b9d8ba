import {
  type BenchResults,
  isFailed,
  SIZES,
  type SizeKey,
  type TargetResults,
  type ThroughputRun,
} from './results.js';
import { median, perRepetitionRatios, ratio } from './stats.js';

type ThroughputField =
  | 'requestsPerSecond'
  | 'mibPerSecond'
  | 'proxyCpuMicrosPerRequest'
  | 'backendCpuMicrosPerRequest';

function findTarget(results: BenchResults, id: string): TargetResults | undefined {
  return results.targets.find((target) => target.id === id);
}

function byRepetition(runs: readonly ThroughputRun[] | undefined, field: ThroughputField, reps: number) {
  return Array.from({ length: reps }, (_, rep) => runs?.find((run) => run.repetition === rep)?.[field]);
}

/** Median over repetitions of one figure, undefined when no repetition produced it. */
export function medianThroughput(
  target: TargetResults | undefined,
  size: SizeKey,
  field: ThroughputField,
): number | undefined {
  const values = (target?.throughput[size] ?? [])
    .map((run) => run[field])
    .filter((value): value is number => value !== undefined);
  return values.length === 0 ? undefined : median(values);
}

export function medianLatency(
  target: TargetResults | undefined,
  field: 'p50Ms' | 'p99Ms',
): number | undefined {
  const values = (target?.latency ?? []).map((run) => run[field]);
  return values.length === 0 ? undefined : median(values);
}

export interface Comparison {
  readonly subject: string;
  readonly reference: string;
  readonly size: SizeKey;
  /** Ratio of the medians. */
  readonly ratio: number | undefined;
  /** Ratio within each repetition (same machine conditions). */
  readonly perRepetition: (number | undefined)[];
  /** Median of the per-repetition ratios (those that could be formed): the paired figure. */
  readonly paired: number | undefined;
}

/** Median of the per-repetition ratios that exist, undefined when none does. */
export function pairedMedian(perRepetition: readonly (number | undefined)[]): number | undefined {
  const values = perRepetition.filter((value): value is number => value !== undefined);
  return values.length === 0 ? undefined : median(values);
}

function comparison(
  results: BenchResults,
  subject: string,
  reference: string,
  size: SizeKey,
  field: ThroughputField,
): Comparison {
  const a = findTarget(results, subject);
  const b = findTarget(results, reference);
  const perRepetition = perRepetitionRatios(
    byRepetition(a?.throughput[size], field, results.settings.repetitions),
    byRepetition(b?.throughput[size], field, results.settings.repetitions),
  );
  return {
    subject,
    reference,
    size,
    ratio: ratio(medianThroughput(a, size, field), medianThroughput(b, size, field)),
    perRepetition,
    paired: pairedMedian(perRepetition),
  };
}

/**
 * subject ÷ reference proxy CPU per request for one size (lower is better). Less disturbed by other
 * load on a shared machine than req/s: the CPU a call costs does not depend on who else runs.
 */
export function compareCpu(
  results: BenchResults,
  subject: string,
  reference: string,
  size: SizeKey,
): Comparison {
  return comparison(results, subject, reference, size, 'proxyCpuMicrosPerRequest');
}

/** subject ÷ reference throughput for one size (MiB/s for 64 KiB, req/s otherwise: same ratio). */
export function compare(
  results: BenchResults,
  subject: string,
  reference: string,
  size: SizeKey,
): Comparison {
  return comparison(
    results,
    subject,
    reference,
    size,
    size === '64KiB' ? 'mibPerSecond' : 'requestsPerSecond',
  );
}

export interface LatencyComparison {
  readonly subject: string;
  readonly reference: string;
  readonly field: 'p50Ms' | 'p99Ms';
  readonly ratio: number | undefined;
  readonly perRepetition: (number | undefined)[];
  readonly paired: number | undefined;
}

/** subject ÷ reference c=1 latency percentile (lower is better), paired per repetition. */
export function compareLatency(
  results: BenchResults,
  subject: string,
  reference: string,
  field: 'p50Ms' | 'p99Ms',
): LatencyComparison {
  const a = findTarget(results, subject);
  const b = findTarget(results, reference);
  const of = (target: TargetResults | undefined) =>
    Array.from(
      { length: results.settings.repetitions },
      (_, rep) => target?.latency.find((run) => run.repetition === rep)?.[field],
    );
  const perRepetition = perRepetitionRatios(of(a), of(b));
  return {
    subject,
    reference,
    field,
    ratio: ratio(medianLatency(a, field), medianLatency(b, field)),
    perRepetition,
    paired: pairedMedian(perRepetition),
  };
}

export interface Goal {
  /** The target as issue 9 states it. */
  readonly goal: string;
  /** What this run measured, human-readable. */
  readonly measured: string;
  /** undefined when it could not be measured in this run. */
  readonly met: boolean | undefined;
}

const fmt = (value: number | undefined, digits = 2) => (value === undefined ? 'n/a' : value.toFixed(digits));
const int = (value: number | undefined) =>
  value === undefined ? 'n/a' : Math.round(value).toLocaleString('en-US');

function pairedGoal(
  goal: string,
  paired: { readonly paired: number | undefined; readonly perRepetition: readonly (number | undefined)[] },
  medians: string,
  holds: (value: number) => boolean,
): Goal {
  const reps = paired.perRepetition.map((value) => fmt(value)).join(', ');
  return {
    goal,
    measured: `${fmt(paired.paired)}× (per repetition ${reps}; medians ${medians})`,
    met: paired.paired === undefined ? undefined : holds(paired.paired),
  };
}

function throughputGoal(results: BenchResults, reference: string, size: SizeKey, minimum: number): Goal {
  const label = SIZES.find((entry) => entry.key === size)?.label ?? size;
  const mib = size === '64KiB';
  const field: ThroughputField = mib ? 'mibPerSecond' : 'requestsPerSecond';
  const unit = mib ? 'MiB/s' : 'req/s';
  const medians =
    `${int(medianThroughput(findTarget(results, 'gateway'), size, field))} vs ` +
    `${int(medianThroughput(findTarget(results, reference), size, field))} ${unit}`;
  return pairedGoal(
    `gateway ${unit} at ${label} ≥ ${minimum.toFixed(1)}× ${reference}`,
    compare(results, 'gateway', reference, size),
    medians,
    (value) => value >= minimum,
  );
}

function cpuGoal(
  results: BenchResults,
  subject: string,
  reference: string,
  size: SizeKey,
  maximum: number,
  goal: string,
): Goal {
  const medians =
    `${fmt(medianThroughput(findTarget(results, subject), size, 'proxyCpuMicrosPerRequest'), 0)} vs ` +
    `${fmt(medianThroughput(findTarget(results, reference), size, 'proxyCpuMicrosPerRequest'), 0)} µs/call`;
  return pairedGoal(
    goal,
    compareCpu(results, subject, reference, size),
    medians,
    (value) => value <= maximum,
  );
}

/** Issue 11's targets for the Redis session store, measured against the memory store in the same run. */
function sessionStoreGoals(results: BenchResults): Goal[] {
  const cpuGoal = `Redis store: bound calls' CPU per call ≤ ${STORE_CPU_GOAL}× the memory store (sticky, own client)`;
  const firstGoal = `Redis store: a session's first call adds ≤ ${STORE_FIRST_CALL_GOAL_MS} ms at p99 (loopback)`;
  const store = results.sessionStore;
  if (store === undefined || isFailed(store)) {
    const measured = store === undefined ? 'not run' : `failed: ${store.error}`;
    return [
      { goal: cpuGoal, measured, met: undefined },
      { goal: firstGoal, measured, met: undefined },
    ];
  }
  const cpu = pairedGoal(
    cpuGoal,
    {
      paired: store.boundCpuRatio,
      perRepetition: perRepetitionRatios(
        store.redis.boundCpuMicrosPerCall,
        store.memory.boundCpuMicrosPerCall,
      ),
    },
    `${fmt(median(store.redis.boundCpuMicrosPerCall), 0)} vs ${fmt(median(store.memory.boundCpuMicrosPerCall), 0)} µs/call, ${store.sessions} sessions`,
    (value) => value <= STORE_CPU_GOAL,
  );
  return [
    cpu,
    {
      goal: firstGoal,
      measured:
        `${fmt(store.firstCallAddedP99Ms, 3)} ms (p99 ${fmt(store.redis.firstCallP99Ms, 3)} vs ${fmt(store.memory.firstCallP99Ms, 3)} ms, ` +
        `p50 ${fmt(store.redis.firstCallP50Ms, 3)} vs ${fmt(store.memory.firstCallP50Ms, 3)} ms, one call at a time)`,
      met: store.firstCallAddedP99Ms <= STORE_FIRST_CALL_GOAL_MS,
    },
  ];
}

const STORE_CPU_GOAL = 1.1;
/** Issue 12: the admin listener's metrics cost at most 5% CPU per call. */
const METRICS_CPU_GOAL = 1.05;
const STORE_FIRST_CALL_GOAL_MS = 1;

/** The idle-streams target is stated for this many streams. */
const IDLE_STREAMS_GOAL = 10_000;
const IDLE_RSS_GOAL_MB = 150;

/**
 * Every measurable target of issue 9, with this run's figure. Ratios are the median of the
 * per-repetition ratios: the i-th runs of two targets saw the same machine conditions.
 */
export function goals(results: BenchResults): Goal[] {
  const list: Goal[] = [];
  list.push(throughputGoal(results, 'haproxy', '20B', 1.0));
  list.push(throughputGoal(results, 'haproxy', '1KiB', 1.0));
  list.push(throughputGoal(results, 'nginx', '64KiB', 1.0));
  list.push(
    cpuGoal(results, 'gateway', 'haproxy', '20B', 1.5, 'gateway CPU per call at 20 B ≤ 1.5× haproxy'),
  );
  list.push(
    cpuGoal(results, 'gateway', 'haproxy', '1KiB', 1.5, 'gateway CPU per call at 1 KiB ≤ 1.5× haproxy'),
  );

  const authCpu = cpuGoal(
    results,
    'gateway-auth-sticky',
    'gateway',
    '20B',
    1.25,
    'JWT + sticky route CPU per call ≤ 1.25× the plain route (gateway-auth-sticky vs gateway, 20 B)',
  );
  const at1KiB = compareCpu(results, 'gateway-auth-sticky', 'gateway', '1KiB').paired;
  let ownClient = '';
  const sticky = results.stickySessions;
  if (sticky !== undefined && !isFailed(sticky)) {
    const own = ratio(sticky.sticky.gatewayCpuMicrosPerCall, sticky.spread.gatewayCpuMicrosPerCall);
    const fanOut = ratio(sticky.spread.gatewayCpuMicrosPerCall, sticky.plain.gatewayCpuMicrosPerCall);
    ownClient =
      `; across ${sticky.sessions} sessions (own client): ${fmt(own)}× round_robin over the same ` +
      `instances, whose fan-out to ${sticky.instances} connections costs ${fmt(fanOut)}× the static route`;
  }
  list.push({ ...authCpu, measured: `${authCpu.measured}; at 1 KiB ${fmt(at1KiB)}×${ownClient}` });

  const gateway = findTarget(results, 'gateway');
  list.push(
    pairedGoal(
      'gateway p99 at c=1 ≤ 1.2× haproxy',
      compareLatency(results, 'gateway', 'haproxy', 'p99Ms'),
      `${fmt(medianLatency(gateway, 'p99Ms'), 3)} vs ${fmt(medianLatency(findTarget(results, 'haproxy'), 'p99Ms'), 3)} ms`,
      (value) => value <= 1.2,
    ),
  );

  list.push(...sessionStoreGoals(results));
  list.push(
    cpuGoal(
      results,
      'gateway-metrics',
      'gateway',
      '20B',
      METRICS_CPU_GOAL,
      'metrics on: CPU per call ≤ 1.05× metrics off (issue 12; gateway-metrics vs gateway, 20 B)',
    ),
  );

  const idleGoal = `${IDLE_STREAMS_GOAL.toLocaleString('en-US')} idle streams: gateway RSS < ${IDLE_RSS_GOAL_MB} MB`;
  const idle = results.idleStreams.find((entry) => entry.target === 'gateway');
  if (idle === undefined || isFailed(idle)) {
    list.push({
      goal: idleGoal,
      measured: idle === undefined ? 'not run' : `failed: ${idle.error}`,
      met: undefined,
    });
  } else {
    const mb = idle.rssOpenBytes === undefined ? undefined : idle.rssOpenBytes / 1e6;
    const closedCleanly = idle.closeOutcomes['grpc-status 0'] ?? 0;
    list.push({
      goal: idleGoal,
      measured:
        `${fmt(mb, 0)} MB with ${idle.opened.toLocaleString('en-US')} of ${idle.requested.toLocaleString('en-US')} open ` +
        `(${fmt(idle.rssBeforeBytes === undefined ? undefined : idle.rssBeforeBytes / 1e6, 0)} MB before; opened in ` +
        `${(idle.openMs / 1000).toFixed(2)} s; ${closedCleanly.toLocaleString('en-US')} closed with grpc-status 0)`,
      met:
        mb === undefined || idle.requested < IDLE_STREAMS_GOAL
          ? undefined
          : idle.opened === idle.requested && mb < IDLE_RSS_GOAL_MB,
    });
  }
  return list;
}
