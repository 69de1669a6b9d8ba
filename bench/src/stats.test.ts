import { describe, expect, it } from 'vitest';
import { median, perRepetitionRatios, ratio, summarizeLatencies } from './stats.js';

describe('median', () => {
  it('takes the middle value of an odd count, whatever the order', () => {
    expect(median([30, 10, 20])).toBe(20);
  });

  it('averages the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('rejects an empty list', () => {
    expect(() => median([])).toThrow('median of an empty list');
  });
});

describe('ratio', () => {
  it('divides by the reference', () => {
    expect(ratio(5, 4)).toBe(1.25);
  });

  it('is undefined without a usable reference', () => {
    expect(ratio(5, 0)).toBeUndefined();
    expect(ratio(5, undefined)).toBeUndefined();
    expect(ratio(undefined, 3)).toBeUndefined();
  });
});

describe('perRepetitionRatios', () => {
  it('pairs repetition i with repetition i', () => {
    expect(perRepetitionRatios([10, 20, 30], [5, 10, 60])).toEqual([2, 2, 0.5]);
  });

  it('leaves a hole where a repetition is missing', () => {
    expect(perRepetitionRatios([10, undefined], [5, 5])).toEqual([2, undefined]);
  });
});

describe('summarizeLatencies', () => {
  it('reports p50, p99 and max within the histogram precision', () => {
    const micros = Array.from({ length: 1000 }, (_, i) => i + 1);
    const summary = summarizeLatencies(micros);
    expect(summary.count).toBe(1000);
    expect(summary.p50Micros).toBeGreaterThanOrEqual(499);
    expect(summary.p50Micros).toBeLessThanOrEqual(501);
    expect(summary.p99Micros).toBeGreaterThanOrEqual(989);
    expect(summary.p99Micros).toBeLessThanOrEqual(991);
    expect(summary.maxMicros).toBeGreaterThanOrEqual(1000);
    expect(summary.maxMicros).toBeLessThanOrEqual(1001);
  });

  it('rejects an empty sample', () => {
    expect(() => summarizeLatencies([])).toThrow('no latencies to summarize');
  });
});
