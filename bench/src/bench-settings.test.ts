import { describe, expect, it } from 'vitest';
import { readBenchSettings } from './bench-settings.js';

describe('readBenchSettings', () => {
  it('has defaults that fit the 10-minute budget', () => {
    expect(readBenchSettings({})).toEqual({
      throughputSeconds: 4,
      latencySeconds: 3,
      repetitions: 3,
      targets: undefined,
      scenarios: ['sticky', 'idle', 'kill', 'store'],
      sessions: 1000,
      idleStreams: 10_000,
      resultsDir: undefined,
    });
  });

  it('reads overrides', () => {
    const settings = readBenchSettings({
      BENCH_SECONDS: '2',
      BENCH_TARGETS: 'direct, naive',
      BENCH_SCENARIOS: 'kill',
      BENCH_RESULTS_DIR: '/tmp/r',
    });
    expect(settings.throughputSeconds).toBe(2);
    expect(settings.targets).toEqual(['direct', 'naive']);
    expect(settings.scenarios).toEqual(['kill']);
    expect(settings.resultsDir).toBe('/tmp/r');
  });

  it('names the bad variable', () => {
    expect(() => readBenchSettings({ BENCH_REPETITIONS: '0' })).toThrow(
      'BENCH_REPETITIONS must be a positive integer, got "0"',
    );
    expect(() => readBenchSettings({ BENCH_SCENARIOS: 'sticky,soak' })).toThrow(
      'BENCH_SCENARIOS must list among sticky,idle,kill,store, got "soak"',
    );
  });
});
