/**
 * The validated, frozen gateway configuration (REFERENCE.md 6.1 and 6.2). Produced only by
 * `loadGatewayConfig` in `load-config.ts`; every other module receives it read-only.
 */

export type AuthorizationMode = 'none' | 'required';

export type BalancerConfig =
  | { readonly type: 'round_robin' }
  /** `header` is the metadata key whose value is the sticky key (e.g. `session-id`), lower-cased. */
  | { readonly type: 'sticky_sessions'; readonly header: string };

export interface RouteConfig {
  /** Normalised prefix of the full method name (`/pkg.Service/Method...`), never empty. */
  readonly prefix: string;
  readonly cluster: string;
  readonly authorization: AuthorizationMode;
  readonly balancer: BalancerConfig;
}

export interface StaticClusterConfig {
  readonly type: 'static';
  readonly id: string;
  /** `host:port` */
  readonly address: string;
}

export interface DynamicClusterConfig {
  readonly type: 'dynamic';
  readonly id: string;
  /** Base URL of the discoverer, without a trailing slash. */
  readonly discovererUrl: string;
  readonly discovererIntervalMs: number;
}

export type ClusterConfig = StaticClusterConfig | DynamicClusterConfig;

export type DefaultAction =
  | { readonly action: 'error' }
  | { readonly action: 'use_cluster'; readonly cluster: string };

/** Limits that are not in the reference; each has a default and an env override (see load-config.ts). */
export interface GatewayLimits {
  /**
   * Largest single gRPC message accepted from a client, in bytes (RESOURCE_EXHAUSTED above it);
   * 0 = no limit, the default: messages of any size are relayed, memory bounded by flow control.
   */
  readonly maxMessageBytes: number;
  /** Largest total of buffered client messages kept for replay on session transfer, per call. */
  readonly maxReplayBufferBytes: number;
  /** How long in-flight calls may run after SIGTERM before they are cancelled. */
  readonly shutdownGraceMs: number;
  /** A client connection must complete the HTTP/2 handshake (preface and SETTINGS) within this. */
  readonly handshakeTimeoutMs: number;
  /** A client connection without an open stream for this long gets GOAWAY and is closed; 0 = never. */
  readonly idleTimeoutMs: number;
}

export interface GatewayConfig {
  /** SERVICE_PORT_GRPC */
  readonly port: number;
  /** Address to listen on: LISTEN_HOST, default 127.0.0.1 (docker-compose sets 0.0.0.0). */
  readonly host: string;
  /** Absolute path of the YAML file that was loaded. */
  readonly configPath: string;
  /** JWT_SECRET, trimmed; undefined when no route requires authorization and none was given. */
  readonly jwtSecret: string | undefined;
  /** RETRY_COUNT: attempts per backend stream opening on dynamic clusters, >= 1. */
  readonly retryCount: number;
  /** RETRY_TIMEOUT_MS: limit on opening one backend stream, > 0. */
  readonly retryTimeoutMs: number;
  readonly default: DefaultAction;
  /** In file order (the route table sorts them). */
  readonly routes: readonly RouteConfig[];
  /** In file order. */
  readonly clusters: readonly ClusterConfig[];
  readonly limits: GatewayLimits;
}
