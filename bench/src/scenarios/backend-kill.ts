import type http2 from 'node:http2';
import { type CallResult, callGrpc, connectH2, describeOutcome } from '../grpc-client.js';
import { type EchoProcess, startEchoProcess } from '../targets/echo-process.js';
import type { Target } from '../targets/target.js';

export interface BackendKillOptions {
  readonly concurrency: number;
  /** Load before the kill, to have calls in flight. */
  readonly beforeMs: number;
  /** New calls keep being started for this long after the kill. */
  readonly afterMs: number;
  /** Client deadline per call: bounds how long a proxy may hold a call. */
  readonly callTimeoutMs: number;
  readonly body: Buffer;
}

interface OutcomeAfterKill {
  readonly outcome: string;
  readonly calls: number;
  /** Earliest and latest end of such a call, in ms after the kill. */
  readonly firstMs: number;
  readonly lastMs: number;
  /** Median and maximum of the calls' own durations (from their start), ms. */
  readonly medianCallMs: number;
  readonly maxCallMs: number;
}

export interface BackendKillResult {
  readonly target: string;
  readonly okBeforeKill: number;
  /** Every call that ended after the kill, grouped by how it ended. */
  readonly afterKill: OutcomeAfterKill[];
}

/**
 * Runs load through a proxy whose echo backend is SIGKILLed mid-run, then records what clients get
 * and how fast. `startTarget` builds the proxy against the fresh backend's port; both are stopped.
 */
export async function runBackendKill(
  startTarget: (backendPort: number) => Promise<Target>,
  options: BackendKillOptions,
): Promise<BackendKillResult> {
  let backend: EchoProcess | undefined;
  let target: Target | undefined;
  let session: http2.ClientHttp2Session | undefined;
  try {
    backend = await startEchoProcess('doomed');
    target = await startTarget(backend.port);
    const port = target.port;
    session = await connectH2(port);
    let killedAt = Number.POSITIVE_INFINITY;
    let okBeforeKill = 0;
    const ended: { result: CallResult; endedAt: number }[] = [];
    const connection = async (): Promise<http2.ClientHttp2Session | CallResult> => {
      if (session !== undefined && !session.closed && !session.destroyed) return session;
      try {
        session = await connectH2(port, 1_000);
        return session;
      } catch (error) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        return failedToConnect(error);
      }
    };
    const stopAt = () => killedAt + options.afterMs;
    const worker = async () => {
      while (performance.now() < stopAt()) {
        const client = await connection();
        const result =
          'request' in client
            ? await callGrpc(client, {
                path: (target as Target).path,
                headers: (target as Target).headers,
                body: options.body,
                timeoutMs: options.callTimeoutMs,
              })
            : client;
        const endedAt = performance.now();
        if (endedAt < killedAt) {
          if (result.grpcStatus === 0) okBeforeKill++;
        } else {
          ended.push({ result, endedAt });
        }
        if (result.elapsedMs < 0.05) await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const workers = Promise.all(Array.from({ length: options.concurrency }, worker));
    await new Promise((resolve) => setTimeout(resolve, options.beforeMs));
    killedAt = performance.now();
    await backend.process.kill();
    await workers;
    const groups = new Map<string, { endsAfterKill: number[]; durations: number[] }>();
    for (const { result, endedAt } of ended) {
      const outcome = describeKillOutcome(result);
      const group = groups.get(outcome) ?? { endsAfterKill: [], durations: [] };
      group.endsAfterKill.push(endedAt - killedAt);
      group.durations.push(result.elapsedMs);
      groups.set(outcome, group);
    }
    return {
      target: target.id,
      okBeforeKill,
      afterKill: [...groups].map(([outcome, group]) => {
        const durations = group.durations.sort((a, b) => a - b);
        return {
          outcome,
          calls: durations.length,
          firstMs: Math.min(...group.endsAfterKill),
          lastMs: Math.max(...group.endsAfterKill),
          medianCallMs: durations[durations.length >> 1] as number,
          maxCallMs: durations[durations.length - 1] as number,
        };
      }),
    };
  } finally {
    session?.destroy();
    await target?.stop();
    await backend?.process.stop();
  }
}

/** describeOutcome plus the message, which is what tells "backend service unavailable" apart. */
function describeKillOutcome(result: CallResult): string {
  const base = describeOutcome(result);
  return result.grpcStatus !== undefined && result.grpcMessage ? `${base} "${result.grpcMessage}"` : base;
}

function failedToConnect(error: unknown): CallResult {
  return {
    httpStatus: undefined,
    grpcStatus: undefined,
    grpcMessage: undefined,
    rstCode: undefined,
    error: `connect: ${(error as { code?: string }).code ?? (error as Error).message}`,
    timedOut: false,
    headers: undefined,
    bodyBytes: 0,
    body: undefined,
    elapsedMs: 0,
  };
}
