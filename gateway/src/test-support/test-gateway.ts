import {
  type CallOptions,
  type ClientReadableStream,
  Metadata,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import type { ClusterConfig, DownstreamTlsConfig, GatewayConfig, RouteConfig } from '../config/types.js';
import { createGateway, type Gateway, type GatewayDeps } from '../gateway.js';
import { createLogger } from '../observability/logger.js';
import { PROBE_UNARY, type ProbeClient, type ProbeReply, type ProbeRequest } from './probe-backend.js';

export const PROBE_PREFIX = '/probe.v1.Probe/';

export function staticCluster(id: string, address: string): ClusterConfig {
  return { type: 'static', id, address };
}

export function dynamicCluster(
  id: string,
  discovererUrl: string,
  discovererIntervalMs = 60_000,
): ClusterConfig {
  return { type: 'dynamic', id, discovererUrl, discovererIntervalMs };
}

export function route(prefix: string, cluster: string, sticky?: string): RouteConfig {
  return {
    prefix,
    cluster,
    authorization: 'none',
    balancer: sticky === undefined ? { type: 'round_robin' } : { type: 'sticky_sessions', header: sticky },
  };
}

export interface TestGatewayOptions {
  readonly routes: readonly RouteConfig[];
  readonly clusters: readonly ClusterConfig[];
  readonly default?: GatewayConfig['default'];
  readonly retryCount?: number;
  readonly retryTimeoutMs?: number;
  readonly maxMessageBytes?: number;
  readonly maxReplayBufferBytes?: number;
  readonly shutdownGraceMs?: number;
  readonly handshakeTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly jwtSecret?: string;
  readonly sessionStore?: GatewayConfig['sessionStore'];
  readonly tls?: DownstreamTlsConfig;
  readonly deps?: GatewayDeps;
}

export interface StartedGateway {
  readonly gateway: Gateway;
  readonly port: number;
  readonly address: string;
  close(graceMs?: number): Promise<void>;
}

/** The config `startTestGateway` runs (also what a test's `reloadConfig` returns for new routes). */
export function testGatewayConfig(options: TestGatewayOptions): GatewayConfig {
  return Object.freeze({
    port: 0,
    host: '127.0.0.1',
    configPath: '<test>',
    jwtSecret: options.jwtSecret,
    retryCount: options.retryCount ?? 3,
    retryTimeoutMs: options.retryTimeoutMs ?? 1000,
    default: options.default ?? ({ action: 'error' } as const),
    routes: options.routes,
    clusters: options.clusters,
    limits: {
      maxMessageBytes: options.maxMessageBytes ?? 0,
      maxReplayBufferBytes: options.maxReplayBufferBytes ?? 1024 * 1024,
      shutdownGraceMs: options.shutdownGraceMs ?? 2000,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
    },
    sessionStore: options.sessionStore ?? ({ type: 'memory' } as const),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    workers: 1,
  });
}

/** A gateway on 127.0.0.1, port 0, built from a config object (the env/YAML loader is tested apart). */
export async function startTestGateway(options: TestGatewayOptions): Promise<StartedGateway> {
  const config = testGatewayConfig(options);
  const gateway = createGateway(config, {
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...options.deps,
  });
  const port = await gateway.start();
  return { gateway, port, address: `127.0.0.1:${port}`, close: (graceMs = 0) => gateway.close(graceMs) };
}

export interface UnaryOutcome {
  readonly reply: ProbeReply | undefined;
  readonly error: ServiceError | undefined;
  readonly headers: Metadata | undefined;
  readonly status: StatusObject;
}

/** Call metadata naming the sticky session `id` (the routes' `session-id` header). */
export function sessionMetadata(id: string): Metadata {
  const metadata = new Metadata();
  metadata.set('session-id', id);
  return metadata;
}

/**
 * A unary call that never rejects: the outcome says what happened. `path` calls the probe's Unary
 * under another `:path` (to reach another route with the same messages).
 */
export function unary(
  client: ProbeClient,
  request: ProbeRequest,
  metadata: Metadata = new Metadata(),
  options: CallOptions = {},
  path = `${PROBE_PREFIX}Unary`,
): Promise<UnaryOutcome> {
  return new Promise((resolve) => {
    let reply: ProbeReply | undefined;
    let error: ServiceError | undefined;
    let headers: Metadata | undefined;
    const call = client.makeUnaryRequest(
      path,
      PROBE_UNARY.requestSerialize,
      PROBE_UNARY.responseDeserialize,
      request,
      metadata,
      options,
      (err, value) => {
        error = err ?? undefined;
        reply = value;
      },
    );
    call.on('metadata', (m: Metadata) => {
      headers = m;
    });
    call.on('status', (status: StatusObject) => {
      // The callback runs before 'status' in grpc-js; defer once so both are in.
      setImmediate(() => resolve({ reply, error, headers, status }));
    });
  });
}

export interface StreamOutcome {
  readonly messages: ProbeReply[];
  readonly headers: Metadata | undefined;
  readonly status: StatusObject;
}

/** Reads a response stream to its end (or error); `onMessage` may react to each message. */
export function collect(
  call: ClientReadableStream<ProbeReply>,
  onMessage?: (message: ProbeReply, index: number) => void,
): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const messages: ProbeReply[] = [];
    let headers: Metadata | undefined;
    call.on('metadata', (m: Metadata) => {
      headers = m;
    });
    call.on('data', (message: ProbeReply) => {
      messages.push(message);
      onMessage?.(message, messages.length - 1);
    });
    call.on('error', () => undefined);
    call.on('status', (status: StatusObject) => setImmediate(() => resolve({ messages, headers, status })));
  });
}
