import { describe, expect, it } from 'vitest';
import { readBenchSettings } from './bench-settings.js';
import { renderReport } from './render-report.js';
import type { BenchResults, SizeKey, TargetResults, ThroughputRun } from './results.js';
import type { IdleStreamsResult } from './scenarios/idle-streams.js';
import {
  compare,
  compareCpu,
  compareLatency,
  goals,
  medianLatency,
  medianThroughput,
  pairedMedian,
} from './summarize.js';

function runs(requestsPerSecond: number[], cpu: number | undefined): ThroughputRun[] {
  return requestsPerSecond.map((rps, repetition) => ({
    repetition,
    requestsPerSecond: rps,
    mibPerSecond: rps / 16,
    requests: rps * 4,
    failures: 0,
    echoedFraction: 1,
    proxyCpuMicrosPerRequest: cpu,
    backendCpuMicrosPerRequest: 30,
  }));
}

function target(id: string, rps: number[], cpu: number | undefined, p50 = 0.3, p99 = 1): TargetResults {
  const throughput = {} as Record<SizeKey, ThroughputRun[]>;
  for (const size of ['20B', '1KiB', '64KiB'] as const) throughput[size] = runs(rps, cpu);
  return {
    id,
    label: id,
    throughput,
    latency: [0, 1, 2].map((repetition) => ({ repetition, p50Ms: p50, p99Ms: p99, requests: 1000 })),
    rssBytes: 50e6,
  };
}

function fixture(): BenchResults {
  return {
    generatedAt: '2026-01-01T00:00:00.000Z',
    settings: readBenchSettings({}),
    machine: {
      cpuModel: 'Test CPU',
      cores: 2,
      memoryGiB: 8,
      kernel: 'Linux 6',
      node: 'v20.20.2',
      nginx: 'nginx/1.22.1',
      haproxy: undefined,
      h2load: 'h2load nghttp2/1.52.0',
      loadAverageAtStart: 0.5,
    },
    targets: [
      target('direct', [16000, 15000, 17000], undefined),
      target('gateway', [5000, 4000, 6000], 150),
      target('gateway-auth-sticky', [4500, 3900, 5000], 180),
      target('nginx', [5000, 5000, 5000], 100),
      target('naive', [4000, 4000, 8000], 250),
    ],
    unavailable: [{ id: 'haproxy', reason: 'haproxy is not installed (apt-get install haproxy)' }],
    stickySessions: undefined,
    sessionStore: undefined,
    idleStreams: [
      {
        target: 'gateway',
        requested: 10_000,
        connections: 10,
        opened: 10_000,
        openMs: 1500,
        rssBeforeBytes: 60e6,
        rssOpenBytes: 120e6,
        cpuMicrosPerStream: 80,
        closeMs: 400,
        closeOutcomes: { 'grpc-status 0': 10_000 },
      },
    ],
    backendKill: [
      {
        target: 'gateway',
        okBeforeKill: 900,
        afterKill: [
          { outcome: 'grpc-status 0', calls: 16, firstMs: 0.2, lastMs: 3, medianCallMs: 1, maxCallMs: 3 },
          {
            outcome: 'grpc-status 14 "backend service unavailable"',
            calls: 40,
            firstMs: 1,
            lastMs: 990,
            medianCallMs: 2,
            maxCallMs: 12,
          },
        ],
      },
    ],
    runErrors: [],
    slowRecoveries: [],
    wallSeconds: 420,
    loadAverageAtEnd: 0.7,
  };
}

/** The fixture with haproxy installed and measured (the issue 9 targets compare against it). */
function withHaproxy(): BenchResults {
  const results = fixture();
  results.unavailable.splice(0);
  results.targets.push(target('haproxy', [5000, 4000, 5000], 120, 0.25, 0.9));
  return results;
}

describe('medians and comparisons', () => {
  it('takes medians over the repetitions', () => {
    const results = fixture();
    const gateway = results.targets[1];
    expect(medianThroughput(gateway, '20B', 'requestsPerSecond')).toBe(5000);
    expect(medianLatency(gateway, 'p99Ms')).toBe(1);
  });

  it('compares medians and pairs repetitions', () => {
    const comparison = compare(fixture(), 'gateway', 'naive', '1KiB');
    expect(comparison.ratio).toBe(1.25);
    expect(comparison.perRepetition).toEqual([1.25, 1, 0.75]);
    expect(comparison.paired).toBe(1);
  });

  it('compares proxy CPU per request', () => {
    const comparison = compareCpu(fixture(), 'gateway', 'nginx', '20B');
    expect(comparison.ratio).toBe(1.5);
    expect(comparison.perRepetition).toEqual([1.5, 1.5, 1.5]);
    expect(comparison.paired).toBe(1.5);
  });

  it('pairs c=1 latencies per repetition', () => {
    const results = withHaproxy();
    const gateway = results.targets[1] as TargetResults;
    gateway.latency.splice(
      0,
      3,
      ...[1.2, 0.9, 2].map((p99Ms, repetition) => ({
        repetition,
        p50Ms: 0.3,
        p99Ms,
        requests: 1000,
      })),
    );
    const comparison = compareLatency(results, 'gateway', 'haproxy', 'p99Ms');
    expect(comparison.perRepetition.map((value) => value?.toFixed(2))).toEqual(['1.33', '1.00', '2.22']);
    expect(comparison.paired?.toFixed(2)).toBe('1.33');
  });

  it('takes the median of the ratios that exist', () => {
    expect(pairedMedian([1, undefined, 3])).toBe(2);
    expect(pairedMedian([undefined, undefined])).toBeUndefined();
  });

  it('leaves a ratio against a target that did not run undefined', () => {
    const comparison = compare(fixture(), 'gateway', 'haproxy', '20B');
    expect(comparison.ratio).toBeUndefined();
    expect(comparison.paired).toBeUndefined();
  });
});

describe('goals', () => {
  it('judges every issue 9 target from the paired figures', () => {
    const byGoal = Object.fromEntries(goals(withHaproxy()).map((goal) => [goal.goal, goal.met]));
    expect(byGoal).toEqual({
      'gateway req/s at 20 B ≥ 1.0× haproxy': true,
      'gateway req/s at 1 KiB ≥ 1.0× haproxy': true,
      'gateway MiB/s at 64 KiB ≥ 1.0× nginx': true,
      'gateway CPU per call at 20 B ≤ 1.5× haproxy': true,
      'gateway CPU per call at 1 KiB ≤ 1.5× haproxy': true,
      'JWT + sticky route CPU per call ≤ 1.25× the plain route (gateway-auth-sticky vs gateway, 20 B)': true,
      'gateway p99 at c=1 ≤ 1.2× haproxy': true,
      "Redis store: bound calls' CPU per call ≤ 1.1× the memory store (sticky, own client)": undefined,
      "Redis store: a session's first call adds ≤ 1 ms at p99 (loopback)": undefined,
      '10,000 idle streams: gateway RSS < 150 MB': true,
    });
  });

  it('judges the Redis store against the memory store of the same run', () => {
    const figures = (firstCallP99Ms: number, cpu: number[]) => ({
      firstCallP50Ms: 0.5,
      firstCallP99Ms,
      boundCpuMicrosPerCall: cpu,
      boundCallsPerSecond: [5000, 5000, 5000],
      outcomes: { 'grpc-status 0': 100 },
    });
    const results = withHaproxy();
    results.sessionStore = {
      sessions: 1000,
      memory: figures(1.2, [100, 100, 100]),
      redis: figures(2.5, [105, 120, 108]),
      boundCpuRatio: 1.08,
      firstCallAddedP99Ms: 1.3,
      workers: { one: [4000], two: [5000], ratio: 1.25 },
      stickyViolations: 0,
    };
    const [cpu, first] = goals(results).filter((goal) => goal.goal.startsWith('Redis store'));
    expect(cpu).toEqual({
      goal: "Redis store: bound calls' CPU per call ≤ 1.1× the memory store (sticky, own client)",
      measured: '1.08× (per repetition 1.05, 1.20, 1.08; medians 108 vs 100 µs/call, 1000 sessions)',
      met: true,
    });
    expect(first).toEqual({
      goal: "Redis store: a session's first call adds ≤ 1 ms at p99 (loopback)",
      measured: '1.300 ms (p99 2.500 vs 1.200 ms, p50 0.500 vs 0.500 ms, one call at a time)',
      met: false,
    });
  });

  it('shows the paired ratio, every repetition and the medians', () => {
    const byGoal = Object.fromEntries(goals(withHaproxy()).map((goal) => [goal.goal, goal.measured]));
    expect(byGoal['gateway req/s at 20 B ≥ 1.0× haproxy']).toBe(
      '1.00× (per repetition 1.00, 1.00, 1.20; medians 5,000 vs 5,000 req/s)',
    );
    expect(byGoal['gateway p99 at c=1 ≤ 1.2× haproxy']).toBe(
      '1.11× (per repetition 1.11, 1.11, 1.11; medians 1.000 vs 0.900 ms)',
    );
    expect(byGoal['10,000 idle streams: gateway RSS < 150 MB']).toBe(
      '120 MB with 10,000 of 10,000 open (60 MB before; opened in 1.50 s; 10,000 closed with grpc-status 0)',
    );
  });

  it('judges on the median of the per-repetition ratios, not on the ratio of medians', () => {
    const results = withHaproxy();
    // Medians 5,000 vs 5,000 (ratio 1.0), but the gateway loses two repetitions of three.
    (results.targets[1] as TargetResults).throughput['20B'] = runs([4900, 4000, 6000], 150);
    (results.targets[5] as TargetResults).throughput['20B'] = runs([5000, 4100, 5000], 120);
    const goal = goals(results).find((entry) => entry.goal === 'gateway req/s at 20 B ≥ 1.0× haproxy');
    expect(goal?.met).toBe(false);
  });

  it('fails the CPU, latency and idle goals above their bounds', () => {
    const results = withHaproxy();
    (results.targets[2] as TargetResults).throughput['20B'] = runs([4500, 3900, 5000], 190);
    (results.targets[1] as TargetResults).throughput['1KiB'] = runs([5000, 4000, 6000], 200);
    results.targets[1] = target('gateway', [5000, 4000, 6000], 150, 0.3, 1.2);
    results.idleStreams[0] = { ...(results.idleStreams[0] as IdleStreamsResult), rssOpenBytes: 151e6 };
    const byGoal = Object.fromEntries(goals(results).map((goal) => [goal.goal, goal]));
    const auth =
      byGoal[
        'JWT + sticky route CPU per call ≤ 1.25× the plain route (gateway-auth-sticky vs gateway, 20 B)'
      ];
    expect(auth?.met).toBe(false);
    expect(auth?.measured).toBe(
      '1.27× (per repetition 1.27, 1.27, 1.27; medians 190 vs 150 µs/call); at 1 KiB 1.20×',
    );
    expect(byGoal['gateway p99 at c=1 ≤ 1.2× haproxy']?.met).toBe(false);
    expect(byGoal['10,000 idle streams: gateway RSS < 150 MB']?.met).toBe(false);
  });

  it('does not judge what did not run', () => {
    const results = fixture();
    results.idleStreams.splice(0);
    const byGoal = Object.fromEntries(goals(results).map((goal) => [goal.goal, goal]));
    expect(byGoal['gateway req/s at 20 B ≥ 1.0× haproxy']?.met).toBeUndefined();
    expect(byGoal['gateway p99 at c=1 ≤ 1.2× haproxy']?.met).toBeUndefined();
    expect(byGoal['10,000 idle streams: gateway RSS < 150 MB']).toEqual({
      goal: '10,000 idle streams: gateway RSS < 150 MB',
      measured: 'not run',
      met: undefined,
    });
  });

  it('does not judge the idle goal on fewer streams than it states', () => {
    const results = withHaproxy();
    results.idleStreams[0] = {
      ...(results.idleStreams[0] as IdleStreamsResult),
      requested: 100,
      opened: 100,
    };
    const idle = goals(results).find((goal) => goal.goal.includes('idle streams'));
    expect(idle?.met).toBeUndefined();
  });
});

describe('renderReport', () => {
  it('shows the machine, the missing targets, the medians and the goals', () => {
    const report = renderReport(fixture());
    expect(report).toContain('- CPU: Test CPU, 2 cores; memory 8 GiB; Linux 6');
    expect(report).toContain('haproxy NOT INSTALLED');
    expect(report).toContain('- **haproxy did not run**: haproxy is not installed (apt-get install haproxy)');
    expect(report).toContain(
      '| gateway | 5,000 | 5,000 | 5,000 | 313 | 150 / 150 / 150 | 30 | 0.300 / 1.000 | 50 |',
    );
    expect(report).toContain('| gateway vs naive | 1.00 (1.25, 1.00, 0.75) |');
    expect(report).toContain('## Issue 9 targets');
    expect(report).toContain('| gateway req/s at 20 B ≥ 1.0× haproxy | n/a× (per repetition n/a, n/a, n/a;');
    expect(report).toContain('| not measured |');
    expect(report).not.toContain('frame');
  });

  it('marks the issue 9 targets met or not met, with the auth route against the plain one', () => {
    const results = withHaproxy();
    results.idleStreams[0] = { ...(results.idleStreams[0] as IdleStreamsResult), rssOpenBytes: 200e6 };
    const report = renderReport(results);
    expect(report).toContain('| gateway-auth-sticky vs gateway | 0.90 (0.90, 0.97, 0.83) |');
    expect(report).toContain('| gateway vs haproxy | 1.20 (1.20, 1.20, 1.20) | 1.11 (1.11, 1.11, 1.11) |');
    expect(report).toContain('| gateway CPU per call at 20 B ≤ 1.5× haproxy | 1.25× ');
    expect(report).toContain('closed with grpc-status 0) | **not met** |');
    expect(report).toMatch(/\| gateway p99 at c=1 ≤ 1\.2× haproxy \| 1\.11× .* \| met \|/);
  });

  it('flags truncated responses, which h2load counts as successes', () => {
    const results = fixture();
    const runs64 = (results.targets[1] as TargetResults).throughput['64KiB'];
    runs64[0] = { ...(runs64[0] as ThroughputRun), echoedFraction: 0.25 };
    expect(renderReport(results)).toContain(
      'Problems: gateway 64 KiB repetition 1: responses truncated (25% of the bytes sent came back).',
    );
  });

  it('folds multi-line failure output into one line', () => {
    const results = fixture();
    results.unavailable.push({ id: 'nginx', reason: 'exited\n[emerg] bind() failed | port' });
    expect(renderReport(results)).toContain(
      '- **nginx did not run**: exited ⏎ [emerg] bind() failed \\| port',
    );
  });
});
