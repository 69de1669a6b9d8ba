import type http2 from 'node:http2';
import { FakeDiscoverer, type StartedRedis, startRedis } from '@stickygw/testkit';
import { benchInstances } from '../bench-instances.js';
import { signBenchToken } from '../bench-token.js';
import { type CallResult, callGrpc, connectH2, describeOutcome } from '../grpc-client.js';
import { runClosedLoop } from '../load-loop.js';
import { readCpuMicros } from '../proc-stats.js';
import { perRepetitionRatios, summarizeLatencies } from '../stats.js';
import { pairedMedian } from '../summarize.js';
import { type EchoProcess, startEchoProcess } from '../targets/echo-process.js';
import { BENCH_JWT_SECRET, type GatewayProcess, startGatewayProcess } from '../targets/gateway-process.js';
import { STICKY_PATH } from '../targets/target.js';

export interface SessionStoreOptions {
  readonly sessions: number;
  readonly durationMs: number;
  readonly repetitions: number;
  readonly concurrency: number;
  readonly connections: number;
  readonly body: Buffer;
}

/** One gateway's figures in the session-store scenario. */
interface StoreFigures {
  /** Latency of the first call of each session (it binds the session), ms. */
  readonly firstCallP50Ms: number;
  readonly firstCallP99Ms: number;
  /** Bound calls, per repetition: gateway CPU (user + system) per call, µs. */
  readonly boundCpuMicrosPerCall: number[];
  readonly boundCallsPerSecond: number[];
  readonly outcomes: Record<string, number>;
}

export interface SessionStoreResult {
  readonly sessions: number;
  readonly memory: StoreFigures;
  readonly redis: StoreFigures;
  /** Median over repetitions of (Redis store CPU per bound call / memory store's). */
  readonly boundCpuRatio: number | undefined;
  /** p99 of the Redis store's first calls minus the memory store's, ms. */
  readonly firstCallAddedP99Ms: number;
  /** Bound calls per second of one gateway with GATEWAY_WORKERS=2 and =1 (both on the Redis store). */
  readonly workers: { readonly one: number[]; readonly two: number[]; readonly ratio: number | undefined };
  /** Calls answered by another backend than the session's first (any gateway): must be 0. */
  readonly stickyViolations: number;
}

interface BenchGateway {
  readonly gateway: GatewayProcess;
  readonly connections: http2.ClientHttp2Session[];
}

/**
 * Issue 11: the sticky route over `sessions` sessions on two fresh gateways in the same run, one
 * with the memory store and one with a Redis store (a fresh redis-server); repetitions alternate so
 * both see the same machine. First calls are made one at a time, alternating between the two
 * gateways, so their latency is the binding's, not a queue's. Then a gateway with GATEWAY_WORKERS=2
 * against the Redis gateway (1 process) on the same, already bound sessions: req/s, with the load
 * generator on the same cores.
 */
export async function runSessionStore(options: SessionStoreOptions): Promise<SessionStoreResult> {
  const backends: EchoProcess[] = [];
  const gateways: BenchGateway[] = [];
  let discoverer: FakeDiscoverer | undefined;
  let redis: StartedRedis | undefined;
  try {
    backends.push(await startEchoProcess('store-a'), await startEchoProcess('store-b'));
    discoverer = await FakeDiscoverer.start({
      instances: benchInstances(
        options.sessions + 100,
        backends.map((backend) => backend.port),
      ),
    });
    redis = await startRedis();
    const start = async (extra: { sessionStoreUrl?: string; env?: Record<string, string> }) => {
      const gateway = await startGatewayProcess({
        backendPort: (backends[0] as EchoProcess).port,
        discovererUrl: (discoverer as FakeDiscoverer).url,
        ...extra,
      });
      const entry: BenchGateway = { gateway, connections: [] };
      gateways.push(entry);
      for (let i = 0; i < options.connections; i++) entry.connections.push(await connectH2(gateway.port));
      return entry;
    };
    const memory = await start({});
    const inRedis = await start({ sessionStoreUrl: redis.url });
    const headers = await Promise.all(
      Array.from({ length: options.sessions }, async (_, i) => ({
        'session-id': `store-session-${i}`,
        authorization: await signBenchToken(BENCH_JWT_SECRET, `store-session-${i}`),
      })),
    );
    const call = (target: BenchGateway, seq: number): Promise<CallResult> =>
      callGrpc(target.connections[seq % target.connections.length] as http2.ClientHttp2Session, {
        path: STICKY_PATH,
        headers: headers[seq % options.sessions] as Record<string, string>,
        body: options.body,
        timeoutMs: 10_000,
      });

    let stickyViolations = 0;
    /** Counts answers from another backend than the session's first answer through the same store. */
    const stickiness = () => {
      const boundTo = new Map<number, string>();
      return (seq: number, result: CallResult) => {
        const instance = result.headers?.['echo-instance'];
        if (result.grpcStatus !== 0 || typeof instance !== 'string') return;
        const expected = boundTo.get(seq % options.sessions);
        if (expected === undefined) boundTo.set(seq % options.sessions, instance);
        else if (expected !== instance) stickyViolations++;
      };
    };
    // The memory gateway binds on its own; the Redis gateways share one set of bindings.
    const checks = { memory: stickiness(), redis: stickiness() };

    const firstCalls = { memory: [] as number[], redis: [] as number[] };
    const outcomes = { memory: {} as Record<string, number>, redis: {} as Record<string, number> };
    const tally = (into: Record<string, number>, result: CallResult) => {
      const outcome = describeOutcome(result);
      into[outcome] = (into[outcome] ?? 0) + 1;
    };
    for (let i = 0; i < options.sessions; i++) {
      // Alternating who goes first keeps a warm-up or a neighbour's burst from favouring one store.
      const order = i % 2 === 0 ? (['memory', 'redis'] as const) : (['redis', 'memory'] as const);
      for (const store of order) {
        const result = await call(store === 'memory' ? memory : inRedis, i);
        firstCalls[store].push(result.elapsedMs * 1000);
        tally(outcomes[store], result);
        checks[store](i, result);
      }
    }

    const loop = async (target: BenchGateway, onResult: (seq: number, result: CallResult) => void) => {
      const cpuBefore = readCpuMicros(target.gateway.process.pid);
      const result = await runClosedLoop({
        concurrency: options.concurrency,
        durationMs: options.durationMs,
        call: (seq) => call(target, seq),
        onResult,
      });
      const cpu = readCpuMicros(target.gateway.process.pid) - cpuBefore;
      return { ...result, cpuMicrosPerCall: cpu / Math.max(1, result.calls) };
    };
    const bound = { memory: [] as number[], redis: [] as number[] };
    const boundRate = { memory: [] as number[], redis: [] as number[] };
    for (let repetition = 0; repetition < options.repetitions; repetition++) {
      const order = repetition % 2 === 0 ? (['memory', 'redis'] as const) : (['redis', 'memory'] as const);
      for (const store of order) {
        const result = await loop(store === 'memory' ? memory : inRedis, (seq, r) => {
          tally(outcomes[store], r);
          checks[store](seq, r);
        });
        bound[store].push(result.cpuMicrosPerCall);
        boundRate[store].push(result.callsPerSecond);
      }
    }

    // The memory gateway is done; its CPU would otherwise only be idle noise beside the workers run.
    await memory.gateway.stop();
    const twoWorkers = await start({ sessionStoreUrl: redis.url, env: { GATEWAY_WORKERS: '2' } });
    // Every session once, so each worker process has the bindings it serves in its local cache.
    for (let i = 0; i < options.sessions * 2; i++) checks.redis(i, await call(twoWorkers, i));
    const workers = { one: [] as number[], two: [] as number[] };
    for (let repetition = 0; repetition < options.repetitions; repetition++) {
      const order = repetition % 2 === 0 ? (['one', 'two'] as const) : (['two', 'one'] as const);
      for (const count of order) {
        const result = await loop(count === 'one' ? inRedis : twoWorkers, checks.redis);
        workers[count].push(result.callsPerSecond);
      }
    }

    const figures = (store: 'memory' | 'redis'): StoreFigures => {
      const first = summarizeLatencies(firstCalls[store]);
      return {
        firstCallP50Ms: first.p50Micros / 1000,
        firstCallP99Ms: first.p99Micros / 1000,
        boundCpuMicrosPerCall: bound[store],
        boundCallsPerSecond: boundRate[store],
        outcomes: outcomes[store],
      };
    };
    const memoryFigures = figures('memory');
    const redisFigures = figures('redis');
    return {
      sessions: options.sessions,
      memory: memoryFigures,
      redis: redisFigures,
      boundCpuRatio: pairedMedian(perRepetitionRatios(bound.redis, bound.memory)),
      firstCallAddedP99Ms: redisFigures.firstCallP99Ms - memoryFigures.firstCallP99Ms,
      workers: { ...workers, ratio: pairedMedian(perRepetitionRatios(workers.two, workers.one)) },
      stickyViolations,
    };
  } finally {
    for (const { gateway, connections } of gateways) {
      for (const connection of connections) connection.destroy();
      await gateway.stop();
    }
    await discoverer?.stop();
    await redis?.stop();
    for (const backend of backends) await backend.process.stop();
  }
}
