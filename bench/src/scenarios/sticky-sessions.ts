import type http2 from 'node:http2';
import { FakeDiscoverer } from '@stickygw/testkit';
import { benchInstances } from '../bench-instances.js';
import { signBenchToken } from '../bench-token.js';
import { callGrpc, connectH2, describeOutcome } from '../grpc-client.js';
import { type ClosedLoopResult, runClosedLoop } from '../load-loop.js';
import { readCpuMicros, readRssBytes } from '../proc-stats.js';
import { type EchoProcess, startEchoProcess } from '../targets/echo-process.js';
import { BENCH_JWT_SECRET, startGatewayProcess } from '../targets/gateway-process.js';
import { PLAIN_PATH, SPREAD_PATH, STICKY_PATH } from '../targets/target.js';

export interface StickySessionsOptions {
  readonly sessions: number;
  /** Instance ids the discoverer lists (≥ sessions: exclusive binding gives one instance per session). */
  readonly instances: number;
  readonly durationMs: number;
  readonly concurrency: number;
  readonly connections: number;
  readonly body: Buffer;
  /** Extra node flags for the gateway (the profile runner passes `--cpu-prof`). */
  readonly gatewayNodeArgs?: readonly string[];
}

interface LoopFigures extends ClosedLoopResult {
  /** Gateway CPU (user + system) per call during the loop, µs. */
  readonly gatewayCpuMicrosPerCall: number;
}

export interface StickySessionsResult {
  readonly sessions: number;
  readonly instances: number;
  /** Wall time of the first call of every session (each binds a session to an instance). */
  readonly bindMs: number;
  readonly bindOutcomes: Record<string, number>;
  /** Steady state: calls cycling over all sessions, each with its own session-id and token. */
  readonly sticky: LoopFigures;
  /**
   * Same client and gateway, round_robin over the same instances without auth: as many upstream
   * connections as the sticky run, so sticky − spread is the JWT and sticky lookup alone.
   */
  readonly spread: LoopFigures;
  /** Same client and gateway, the static route (one upstream connection, no auth). */
  readonly plain: LoopFigures;
  /** Calls answered by another backend than the session's first call: must be 0. */
  readonly stickyViolations: number;
  readonly gatewayRssBytes: number;
}

/**
 * Sticky routing across many sessions (h2load cannot vary headers per call): a fresh gateway, a
 * discoverer listing `instances` ids spread over two echo backends, one token per session. Each
 * session's calls must keep landing on the backend of its first call.
 */
export async function runStickySessions(options: StickySessionsOptions): Promise<StickySessionsResult> {
  const backends: EchoProcess[] = [];
  const sessions: http2.ClientHttp2Session[] = [];
  const discoverers: FakeDiscoverer[] = [];
  const stoppers: (() => Promise<void>)[] = [];
  try {
    backends.push(await startEchoProcess('sticky-a'), await startEchoProcess('sticky-b'));
    const discoverer = await FakeDiscoverer.start({
      instances: benchInstances(
        options.instances,
        backends.map((backend) => backend.port),
      ),
    });
    discoverers.push(discoverer);
    const gateway = await startGatewayProcess({
      backendPort: (backends[0] as EchoProcess).port,
      discovererUrl: discoverer.url,
      ...(options.gatewayNodeArgs === undefined ? {} : { nodeArgs: options.gatewayNodeArgs }),
    });
    stoppers.push(gateway.stop);
    const ids = Array.from({ length: options.sessions }, (_, i) => `bench-session-${i}`);
    const headers = await Promise.all(
      ids.map(async (id) => ({
        'session-id': id,
        authorization: await signBenchToken(BENCH_JWT_SECRET, id),
      })),
    );
    for (let i = 0; i < options.connections; i++) sessions.push(await connectH2(gateway.port));
    const connection = (seq: number) => sessions[seq % sessions.length] as http2.ClientHttp2Session;
    const boundTo = new Map<number, string>();
    const bindOutcomes: Record<string, number> = {};
    const bindStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < options.sessions) {
          const i = next++;
          const result = await callGrpc(connection(i), {
            path: STICKY_PATH,
            headers: headers[i] as Record<string, string>,
            body: options.body,
            timeoutMs: 10_000,
          });
          const outcome = describeOutcome(result);
          bindOutcomes[outcome] = (bindOutcomes[outcome] ?? 0) + 1;
          const instance = result.headers?.['echo-instance'];
          if (result.grpcStatus === 0 && typeof instance === 'string') boundTo.set(i, instance);
        }
      }),
    );
    const bindMs = performance.now() - bindStarted;
    let stickyViolations = 0;
    const measure = async (path: string, withSession: boolean): Promise<LoopFigures> => {
      const cpuBefore = readCpuMicros(gateway.process.pid);
      const loop = await runClosedLoop({
        concurrency: options.concurrency,
        durationMs: options.durationMs,
        call: (seq) => {
          const session = seq % options.sessions;
          return callGrpc(connection(seq), {
            path,
            headers: withSession ? (headers[session] as Record<string, string>) : {},
            body: options.body,
            timeoutMs: 10_000,
          });
        },
        onResult: (seq, result) => {
          if (!withSession || result.grpcStatus !== 0) return;
          const expected = boundTo.get(seq % options.sessions);
          if (expected !== undefined && result.headers?.['echo-instance'] !== expected) stickyViolations++;
        },
      });
      const cpu = readCpuMicros(gateway.process.pid) - cpuBefore;
      return { ...loop, gatewayCpuMicrosPerCall: cpu / loop.calls };
    };
    const sticky = await measure(STICKY_PATH, true);
    const spread = await measure(SPREAD_PATH, false);
    const plain = await measure(PLAIN_PATH, false);
    return {
      sessions: options.sessions,
      instances: options.instances,
      bindMs,
      bindOutcomes,
      sticky,
      spread,
      plain,
      stickyViolations,
      gatewayRssBytes: readRssBytes(gateway.process.pid),
    };
  } finally {
    for (const session of sessions) session.destroy();
    for (const stop of stoppers) await stop();
    for (const discoverer of discoverers) await discoverer.stop();
    for (const backend of backends) await backend.process.stop();
  }
}
