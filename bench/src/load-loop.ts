import { build } from 'hdr-histogram-js';
import { type CallResult, describeOutcome } from './grpc-client.js';

export interface ClosedLoopOptions {
  /** Calls in flight at any time. */
  readonly concurrency: number;
  readonly durationMs: number;
  /** Issues call number `seq`; must not reject (callGrpc never does). */
  readonly call: (seq: number) => Promise<CallResult>;
  /** Sees every result (e.g. to check which instance answered). */
  readonly onResult?: (seq: number, result: CallResult) => void;
}

export interface ClosedLoopResult {
  readonly calls: number;
  readonly elapsedMs: number;
  readonly callsPerSecond: number;
  /** describeOutcome() → count; a healthy run has only `grpc-status 0`. */
  readonly outcomes: Record<string, number>;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * `concurrency` workers, each issuing its next call as soon as the previous one ends, until the
 * duration is over; calls already in flight then finish (each is bounded by its own deadline).
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const histogram = build({ numberOfSignificantValueDigits: 3, useWebAssembly: false });
  const outcomes: Record<string, number> = {};
  let seq = 0;
  const started = performance.now();
  const end = started + options.durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const mine = seq++;
      const result = await options.call(mine);
      histogram.recordValue(Math.max(1, Math.round(result.elapsedMs * 1000)));
      const outcome = describeOutcome(result);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      options.onResult?.(mine, result);
      // A call that fails synchronously resolves in a microtask; yield so timers and I/O still run.
      if (result.elapsedMs < 0.05) await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  const result = {
    calls: seq,
    elapsedMs,
    callsPerSecond: (seq * 1000) / elapsedMs,
    outcomes,
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
  };
  histogram.destroy();
  return result;
}
