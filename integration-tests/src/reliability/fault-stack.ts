import { join } from 'node:path';
import type { DynamicClusterExtras } from '@stickygw/testkit';
import { ProcessStack } from '../harness/process-stack.js';
import { REPO_ROOT } from '../harness/repo-paths.js';
import { PROBE_SERVICE } from './probe-service.js';

export interface FaultStackOptions {
  /** Worker processes (`worker-1`…), default 3. */
  readonly workers?: number;
  /** Probe processes (`probe-1`…) behind their own discoverer and route; default 0 (no probe cluster). */
  readonly probes?: number;
  readonly subscribeIntervalMs?: number;
  readonly discovererIntervalMs?: number;
  readonly retryCount?: number;
  readonly retryTimeoutMs?: number;
  /** Workers' and probes' heartbeat; short, so a Redis restart is healed quickly. */
  readonly heartbeatMs?: number;
  /** Extra gateway environment (MAX_MESSAGE_BYTES, SHUTDOWN_GRACE_MS, ACCESS_LOG, ...). */
  readonly gatewayEnv?: Readonly<Record<string, string>>;
  readonly logLevel?: string;
  /** Per-component readiness deadline. */
  readonly startupTimeoutMs?: number;
  /** Gateway replicas, default 1; more share their sessions through the stack's Redis. */
  readonly gateways?: number;
  /** `health_check` / `outlier_detection` of the worker cluster (default: neither). */
  readonly workerCluster?: DynamicClusterExtras;
}

/** The compiled probe entry, also when the suite runs from `src/` (build first, as for every server). */
const PROBE_MAIN = join(REPO_ROOT, 'integration-tests', 'dist', 'reliability', 'probe-main.js');
/** Registrations outlive a Redis restart only through heartbeats; the TTL just has to exceed the tests. */
const REGISTRATION_TTL_MS = 60_000;

/**
 * The stack the fault suites (issue 6) and the soak run on: short intervals and heartbeats so
 * faults heal quickly, quiet logs, and optionally probe instances (probe-service.ts) routed by
 * `/stickygw.probe.Probe/` for the call kinds the worker contract lacks.
 */
export function faultStack(options: FaultStackOptions = {}): ProcessStack {
  return new ProcessStack()
    .withWorkers(options.workers ?? 3)
    .withGateways(options.gateways ?? 1)
    .withProbeCluster({ count: options.probes ?? 0, entry: PROBE_MAIN, routePrefix: `/${PROBE_SERVICE}/` })
    .withSubscribeIntervalMs(options.subscribeIntervalMs ?? 100)
    .withDiscovererIntervalMs(options.discovererIntervalMs ?? 200)
    .withRetry(options.retryCount ?? 3, options.retryTimeoutMs ?? 2_000)
    .withRegistration(REGISTRATION_TTL_MS, options.heartbeatMs ?? 1_000)
    .withGatewayEnv(options.gatewayEnv ?? {})
    .withWorkerCluster(options.workerCluster ?? {})
    .withLogLevel(options.logLevel ?? 'warn')
    .withStartupTimeout(options.startupTimeoutMs ?? 30_000);
}
