import { describe, expect, it } from 'vitest';
import { combineThroughputSlices, type ThroughputSlice } from './throughput-slices.js';

const slice = (over: Partial<ThroughputSlice>): ThroughputSlice => ({
  requests: 1000,
  durationSeconds: 1,
  dataBytes: 25_000,
  failures: 0,
  proxyCpuMicros: 10_000,
  backendCpuMicros: 40_000,
  ...over,
});

describe('combineThroughputSlices', () => {
  it('weighs each slice by what it served: totals over totals', () => {
    const run = combineThroughputSlices(
      [
        slice({}),
        slice({ requests: 3000, dataBytes: 75_000, proxyCpuMicros: 60_000, backendCpuMicros: 120_000 }),
      ],
      2,
      25,
    );
    expect(run).toEqual({
      repetition: 2,
      requestsPerSecond: 2000,
      mibPerSecond: 100_000 / 2 ** 20 / 2,
      requests: 4000,
      echoedFraction: 1,
      failures: 0,
      proxyCpuMicrosPerRequest: 17.5,
      backendCpuMicrosPerRequest: 40,
    });
  });

  it('adds up failures; no proxy CPU when a slice has none (the backend direct)', () => {
    const run = combineThroughputSlices(
      [slice({ failures: 2 }), slice({ failures: 1, proxyCpuMicros: undefined })],
      0,
      25,
    );
    expect(run.failures).toBe(3);
    expect(run.proxyCpuMicrosPerRequest).toBeUndefined();
  });

  it('one slice is the run itself', () => {
    const run = combineThroughputSlices([slice({ requests: 0, dataBytes: 0 })], 0, 25);
    expect(run).toMatchObject({
      requestsPerSecond: 0,
      echoedFraction: 0,
      proxyCpuMicrosPerRequest: undefined,
    });
    expect(() => combineThroughputSlices([], 0, 25)).toThrow(/at least one slice/);
  });
});
