import { build } from 'hdr-histogram-js';

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * `value / reference`, or undefined when either side is missing or the reference is zero (a ratio
 * against a target that did not run is not a number to report).
 */
export function ratio(value: number | undefined, reference: number | undefined): number | undefined {
  if (value === undefined || reference === undefined || reference === 0) return undefined;
  return value / reference;
}

/**
 * Ratios of repetition i of one target to repetition i of another. Repetitions are interleaved, so
 * the i-th runs of two targets saw the same machine conditions; pairing them cancels part of the noise
 * of a shared machine.
 */
export function perRepetitionRatios(
  values: readonly (number | undefined)[],
  references: readonly (number | undefined)[],
): (number | undefined)[] {
  return values.map((value, i) => ratio(value, references[i]));
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
  readonly maxMicros: number;
}

/** p50/p99/max of latencies in microseconds, through an HDR histogram (3 significant digits). */
export function summarizeLatencies(micros: readonly number[]): LatencySummary {
  if (micros.length === 0) throw new Error('no latencies to summarize');
  const histogram = build({ numberOfSignificantValueDigits: 3, useWebAssembly: false });
  for (const value of micros) histogram.recordValue(Math.max(1, Math.round(value)));
  const summary = {
    count: histogram.totalCount,
    p50Micros: histogram.getValueAtPercentile(50),
    p99Micros: histogram.getValueAtPercentile(99),
    maxMicros: histogram.maxValue,
  };
  histogram.destroy();
  return summary;
}
