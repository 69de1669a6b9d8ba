import { mib, type ProcessSample } from '../process-metrics.js';
import type { BookingTracker } from './booking-tracker.js';
import type { ChaosStats } from './chaos-loop.js';
import type { SoakConfig } from './soak-config.js';
import type { SoakLedger } from './soak-ledger.js';

export interface GatewaySamples {
  /** Before any load. */
  readonly idle: ProcessSample;
  /** After the warm-up (pools, JIT). */
  readonly warm: ProcessSample;
  /** Half-way through the load phase. */
  readonly mid: ProcessSample;
  /** After the load stopped and the clients closed their connections. */
  readonly end: ProcessSample;
  readonly peakRss: number;
}

interface Invariant {
  readonly name: string;
  readonly held: boolean;
  readonly detail: string;
}

export interface SoakReport {
  readonly passed: boolean;
  readonly seed: number;
  readonly seconds: number;
  readonly sessions: number;
  readonly gateways: number;
  readonly instances: number;
  readonly totalCalls: number;
  readonly callsByStatus: Record<string, number>;
  readonly callsByKind: Array<{ kind: string; counts: Record<string, number> }>;
  readonly neverCompleted: number;
  readonly neverCompletedByKind: Record<string, number>;
  readonly overdueCalls: number;
  readonly doubleBookedInstances: number;
  readonly sessionConflicts: number;
  readonly crossTalk: number;
  readonly corruptedAnswers: number;
  readonly unexpectedStatuses: Record<string, number>;
  readonly latencyMs: Array<{ kind: string; count: number; p50: number; p99: number }>;
  readonly gateway: {
    readonly rssIdle: number;
    readonly rssWarm: number;
    readonly rssMid: number;
    readonly rssEnd: number;
    readonly rssPeak: number;
    readonly handlesIdle: number;
    readonly handlesWarm: number;
    readonly handlesEnd: number;
  };
  readonly chaos: ChaosStats;
  readonly examples: readonly string[];
  readonly invariants: readonly Invariant[];
}

/**
 * Open handles the gateway may legitimately hold after the load beyond its idle count: one pooled
 * connection per instance and auth, the discoverer polls, and some slack for sockets in teardown.
 */
const HANDLE_SLACK = 10;
/** The second half of the run may grow RSS by at most this much, or by the first half's growth. */
const RSS_SECOND_HALF_ALLOWANCE = 48 * 1024 * 1024;

export function evaluateSoak(input: {
  config: SoakConfig;
  seconds: number;
  ledger: SoakLedger;
  tracker: BookingTracker;
  chaos: ChaosStats;
  gateway: GatewaySamples;
  instanceCount: number;
}): SoakReport {
  const { config, ledger, tracker, chaos, gateway } = input;
  const handleLimit = gateway.idle.openHandles + input.instanceCount + 1 + HANDLE_SLACK;
  const firstHalfGrowth = Math.max(0, gateway.mid.rssBytes - gateway.idle.rssBytes);
  const rssLimit = gateway.mid.rssBytes + Math.max(RSS_SECOND_HALF_ALLOWANCE, firstHalfGrowth);
  const invariants: Invariant[] = [
    { name: 'every call completed', held: ledger.pending === 0, detail: `${ledger.pending} never completed` },
    {
      name: 'no instance served two sessions',
      held: tracker.doubleBooked === 0 && tracker.conflicts === 0,
      detail: `${tracker.doubleBooked} double-booked incarnations, ${tracker.conflicts} Session conflict refusals`,
    },
    {
      name: 'no answer for another session',
      held: tracker.crossTalk === 0,
      detail: `${tracker.crossTalk} answers`,
    },
    {
      name: 'no lost, repeated or wrong messages',
      held: ledger.corruptedCount === 0,
      detail: `${ledger.corruptedCount} corrupted answers`,
    },
    {
      name: 'only expected statuses (OK, RESOURCE_EXHAUSTED, UNAVAILABLE, DEADLINE_EXCEEDED)',
      held: ledger.unexpectedCount() === 0,
      detail: `${ledger.unexpectedCount()} unexpected`,
    },
    {
      name: 'gateway handles back to idle level',
      held: gateway.end.openHandles <= handleLimit,
      detail: `${gateway.end.openHandles} at the end, limit ${handleLimit}`,
    },
    {
      name: 'gateway RSS levelled off',
      held: gateway.end.rssBytes <= rssLimit,
      detail: `${mib(gateway.end.rssBytes)} at the end, limit ${mib(rssLimit)} (mid ${mib(gateway.mid.rssBytes)})`,
    },
    {
      name: 'every killed instance came back and was rediscovered',
      held: chaos.failures.length === 0,
      detail: chaos.failures.slice(0, 5).join('; ') || 'none failed',
    },
  ];
  return {
    passed: invariants.every((invariant) => invariant.held),
    seed: config.seed,
    seconds: input.seconds,
    sessions: config.sessions,
    gateways: config.gateways,
    instances: input.instanceCount,
    totalCalls: ledger.total + ledger.pending,
    callsByStatus: ledger.countsByStatus(),
    callsByKind: ledger.countsByKind(),
    neverCompleted: ledger.pending,
    neverCompletedByKind: ledger.pendingByKind(),
    overdueCalls: ledger.overdue,
    doubleBookedInstances: tracker.doubleBooked,
    sessionConflicts: tracker.conflicts,
    crossTalk: tracker.crossTalk,
    corruptedAnswers: ledger.corruptedCount,
    unexpectedStatuses: ledger.unexpected(),
    latencyMs: ledger.latencySummary(),
    gateway: {
      rssIdle: gateway.idle.rssBytes,
      rssWarm: gateway.warm.rssBytes,
      rssMid: gateway.mid.rssBytes,
      rssEnd: gateway.end.rssBytes,
      rssPeak: gateway.peakRss,
      handlesIdle: gateway.idle.openHandles,
      handlesWarm: gateway.warm.openHandles,
      handlesEnd: gateway.end.openHandles,
    },
    chaos,
    examples: [...tracker.examples, ...ledger.corruptions],
    invariants,
  };
}

function counts(record: Record<string, number>): string {
  return (
    Object.entries(record)
      .map(([name, count]) => `${name} ${count}`)
      .join(', ') || 'none'
  );
}

export function formatSoakReport(report: SoakReport): string[] {
  const g = report.gateway;
  const lines = [
    '',
    '=== Soak report ===',
    `duration ${report.seconds.toFixed(0)}s, ${report.sessions} sessions, ${report.gateways > 1 ? `${report.gateways} gateways, ` : ''}${report.instances} instances, seed ${report.seed}`,
    `calls: ${report.totalCalls} (${(report.totalCalls / Math.max(1, report.seconds)).toFixed(0)}/s)`,
    `calls by final status: ${counts(report.callsByStatus)}`,
    ...report.callsByKind.map((row) => `  ${row.kind.padEnd(12)} ${counts(row.counts)}`),
    `calls that never completed: ${report.neverCompleted}${report.neverCompleted > 0 ? ` (${counts(report.neverCompletedByKind)})` : ''}`,
    `calls that ended more than 1s past their deadline: ${report.overdueCalls}`,
    `double-booked instances: ${report.doubleBookedInstances} (Session conflict refusals ${report.sessionConflicts}, answers for another session ${report.crossTalk})`,
    `lost/repeated/wrong messages: ${report.corruptedAnswers}`,
    `unexpected statuses: ${counts(report.unexpectedStatuses)}`,
    `chaos: ${report.chaos.kills} SIGKILL, ${report.chaos.terms} SIGTERM, ${report.chaos.restarts} restarts (${report.chaos.restartsOnNewPort} on a new port), ${report.chaos.failures.length} failed`,
    ...(report.gateways > 1
      ? [
          `gateway chaos: ${report.gateways} gateways, ${report.chaos.gatewayKills} gateway SIGKILLs (all but the first), ${report.chaos.redisRestarts} Redis restarts (empty)`,
        ]
      : []),
    `${report.gateways > 1 ? 'first ' : ''}gateway RSS: idle ${mib(g.rssIdle)}, warm ${mib(g.rssWarm)}, mid ${mib(g.rssMid)}, end ${mib(g.rssEnd)}, peak ${mib(g.rssPeak)}`,
    `${report.gateways > 1 ? 'first ' : ''}gateway open handles: idle ${g.handlesIdle}, warm ${g.handlesWarm}, end ${g.handlesEnd}`,
    'latency of OK calls (ms):',
    ...report.latencyMs.map(
      (row) =>
        `  ${row.kind.padEnd(12)} p50 ${row.p50.toFixed(1).padStart(7)}  p99 ${row.p99.toFixed(1).padStart(7)}  (${row.count})`,
    ),
  ];
  if (report.examples.length > 0)
    lines.push('examples:', ...report.examples.map((example) => `  ${example}`));
  lines.push('invariants:');
  for (const invariant of report.invariants) {
    lines.push(`  ${invariant.held ? 'PASS' : 'FAIL'} ${invariant.name} (${invariant.detail})`);
  }
  lines.push(`Soak ${report.passed ? 'PASSED' : 'FAILED'}`);
  return lines;
}
