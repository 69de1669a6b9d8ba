import { describe, expect, it } from 'vitest';
import { readBenchSettings } from './bench-settings.js';
import { renderReport } from './render-report.js';
import type { BenchResults, SizeKey, TargetResults, ThroughputRun } from './results.js';
import { compare, compareCpu, goals, medianLatency, medianThroughput } from './summarize.js';

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
    idleStreams: [
      {
        target: 'gateway',
        requested: 10_000,
        connections: 10,
        opened: 10_000,
        openMs: 1500,
        rssBeforeBytes: 60e6,
        rssOpenBytes: 250e6,
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
  });

  it('compares proxy CPU per request', () => {
    const comparison = compareCpu(fixture(), 'gateway', 'nginx', '20B');
    expect(comparison.ratio).toBe(1.5);
    expect(comparison.perRepetition).toEqual([1.5, 1.5, 1.5]);
  });

  it('leaves a ratio against a target that did not run undefined', () => {
    expect(compare(fixture(), 'gateway', 'haproxy', '20B').ratio).toBeUndefined();
  });
});

describe('goals', () => {
  it('judges every issue 5 target from the figures', () => {
    const byGoal = Object.fromEntries(goals(fixture()).map((goal) => [goal.goal, goal.met]));
    expect(byGoal).toEqual({
      'gateway req/s at 20 B ≥ 1.0× the naive proxy': true,
      'gateway req/s at 1 KiB ≥ 1.0× the naive proxy': true,
      'gateway req/s at 64 KiB ≥ 1.0× the naive proxy': true,
      'gateway req/s at 20 B ≥ 0.9× nginx': true,
      'gateway req/s at 1 KiB ≥ 0.9× nginx': true,
      'gateway MiB/s at 64 KiB ≥ 0.6× nginx': true,
      'gateway p99 at c=1 < 2 ms': true,
      'gateway p50 at c=1 < 0.6 ms': true,
      'auth + sticky route CPU per call ≤ 1.25× the plain route': true,
      '10,000 idle streams: gateway RSS < 300 MB': true,
      'backend killed under load: clients get grpc-status 14 at once': true,
    });
  });

  it('counts only failed calls after the kill, not those the backend still answered', () => {
    const kill = goals(fixture()).find((goal) => goal.goal.startsWith('backend killed'));
    expect(kill?.measured).toBe(
      '40 of 40 failed calls after the kill got 14; median call 2.0 ms, slowest 12.0 ms',
    );
  });

  it('fails the CPU goal above 1.25× and the kill goal on any other outcome', () => {
    const results = fixture();
    (results.targets[2] as TargetResults).throughput['20B'] = runs([4500, 3900, 5000], 190);
    results.backendKill[0] = {
      target: 'gateway',
      okBeforeKill: 900,
      afterKill: [
        {
          outcome: 'HTTP 502 (no grpc-status)',
          calls: 3,
          firstMs: 1,
          lastMs: 2,
          medianCallMs: 1,
          maxCallMs: 1,
        },
      ],
    };
    const byGoal = Object.fromEntries(goals(results).map((goal) => [goal.goal, goal]));
    expect(byGoal['auth + sticky route CPU per call ≤ 1.25× the plain route']?.met).toBe(false);
    expect(byGoal['auth + sticky route CPU per call ≤ 1.25× the plain route']?.measured).toBe(
      '190 vs 150 µs = 1.27× (h2load, 20 B)',
    );
    expect(byGoal['backend killed under load: clients get grpc-status 14 at once']?.met).toBe(false);
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
    expect(report).toContain('| gateway vs naive | 1.25 (1.25, 1.00, 0.75) |');
    expect(report).toContain('| gateway p50 at c=1 < 0.6 ms | 0.300 ms | yes |');
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
