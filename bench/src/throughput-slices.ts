import type { ThroughputRun } from './results.js';

/** One h2load c=8 run of a target, as measured: a slice of that target's run in a repetition. */
export interface ThroughputSlice {
  readonly requests: number;
  readonly durationSeconds: number;
  /** Response DATA bytes h2load received. */
  readonly dataBytes: number;
  readonly failures: number;
  /** CPU (user + system) of the proxy process(es) over the slice, µs; undefined for the backend direct. */
  readonly proxyCpuMicros: number | undefined;
  readonly backendCpuMicros: number;
}

/**
 * A target's run in one repetition from its slices: totals over totals (calls per second over
 * the slices' summed durations, CPU over all their calls), so a slice that served more calls
 * weighs more, as it would have in one long run.
 */
export function combineThroughputSlices(
  slices: readonly ThroughputSlice[],
  repetition: number,
  requestBodyBytes: number,
): ThroughputRun {
  if (slices.length === 0) throw new Error('a throughput run needs at least one slice');
  let requests = 0;
  let seconds = 0;
  let dataBytes = 0;
  let failures = 0;
  let proxyCpu: number | undefined = 0;
  let backendCpu = 0;
  for (const slice of slices) {
    requests += slice.requests;
    seconds += slice.durationSeconds;
    dataBytes += slice.dataBytes;
    failures += slice.failures;
    proxyCpu =
      proxyCpu === undefined || slice.proxyCpuMicros === undefined
        ? undefined
        : proxyCpu + slice.proxyCpuMicros;
    backendCpu += slice.backendCpuMicros;
  }
  return {
    repetition,
    requestsPerSecond: seconds === 0 ? 0 : requests / seconds,
    mibPerSecond: seconds === 0 ? 0 : dataBytes / 2 ** 20 / seconds,
    requests,
    echoedFraction: requests === 0 ? 0 : dataBytes / (requests * requestBodyBytes),
    failures,
    proxyCpuMicrosPerRequest: proxyCpu === undefined || requests === 0 ? undefined : proxyCpu / requests,
    backendCpuMicrosPerRequest: requests === 0 ? 0 : backendCpu / requests,
  };
}
