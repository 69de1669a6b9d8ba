import type { Static } from '@stickygw/servicekit';
import type { BalancerYaml, RouteYaml, StaticClusterYaml } from './yaml-schema.js';

/**
 * The validated, frozen gateway configuration (REFERENCE.md 6.1 and 6.2). Produced only by
 * `loadGatewayConfig` in `load-config.ts`; every other module receives it read-only. The shapes the
 * YAML file already has are its schema's types (`yaml-schema.ts`); the rest is what the loader makes
 * of the file and the environment (`env-schema.ts`).
 */

type BalancerConfig = Readonly<Static<typeof BalancerYaml>>;

/** `prefix` is normalised (never empty, starts with `/`); a sticky `header` is lower-cased. */
export type RouteConfig = Readonly<
  Omit<
    Static<typeof RouteYaml>,
    'balancer' | 'session_idle_timeout_ms' | 'strip_request_headers' | 'forward_authorization'
  > & {
    balancer: BalancerConfig;
    /** Request headers not forwarded to the backend, lower-cased (`strip_request_headers`). */
    stripRequestHeaders?: readonly string[] | undefined;
    /** `forward_authorization`: an `authorization: none` route forwards the client's `authorization`. */
    forwardAuthorization?: boolean | undefined;
    /** Sticky routes: idle bindings are released after this; undefined = never. */
    sessionIdleTimeoutMs?: number | undefined;
  }
>;

/**
 * TLS towards a cluster's instances: the PEM contents read from the YAML's `tls` files (the paths,
 * resolved against the YAML file, are kept for messages). No `ca` = the system CAs.
 */
export interface UpstreamTlsConfig {
  readonly caFile?: string;
  readonly ca?: string;
  readonly certFile?: string;
  readonly cert?: string;
  readonly keyFile?: string;
  readonly key?: string;
  /** SNI and the name the certificate must carry; default the instance's host (when not an IP). */
  readonly serverName?: string;
}

export type StaticClusterConfig = Readonly<
  Omit<Static<typeof StaticClusterYaml>, 'tls'> & { id: string; tls?: UpstreamTlsConfig }
>;

export interface DynamicClusterConfig {
  readonly type: 'dynamic';
  readonly id: string;
  /** Base URL of the discoverer, without a trailing slash. */
  readonly discovererUrl: string;
  readonly discovererIntervalMs: number;
  /** `discoverer_token_file` (resolved against the YAML file's directory) or `discoverer_token_env`. */
  readonly discovererTokenSource?: { readonly file?: string; readonly env?: string };
  /** The token read from that source at load time; sent as `Authorization: Bearer`. */
  readonly discovererToken?: string;
  /** YAML `health_check`; undefined = no active checks. */
  readonly healthCheck?: HealthCheckConfig | undefined;
  /** YAML `outlier_detection`; undefined = no ejection beyond the reference's. */
  readonly outlierDetection?: OutlierDetectionConfig | undefined;
  readonly tls?: UpstreamTlsConfig;
}

export interface HealthCheckConfig {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
  /** The `service` of the `HealthCheckRequest` ("" = the whole server). */
  readonly service: string;
}

export interface OutlierDetectionConfig {
  readonly consecutiveFailures: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
}

/**
 * A cluster of a type an embedder added (`loadGatewayConfig`'s `clusterTypes`, built by the factory
 * registered under the same name in `GatewayDeps.clusterTypes`).
 */
export interface ExtensionClusterConfig {
  readonly type: 'extension';
  readonly id: string;
  /** The YAML `type`: the name of its schema and of its factory. */
  readonly extensionType: string;
  /** The cluster's YAML mapping as its schema checked it (defaults applied, `type` included). */
  readonly settings: Readonly<Record<string, unknown>>;
}

export type ClusterConfig = StaticClusterConfig | DynamicClusterConfig | ExtensionClusterConfig;

type DefaultAction =
  | { readonly action: 'error' }
  | { readonly action: 'use_cluster'; readonly cluster: string };

/** Limits that are not in the reference; each has a default and an env override (`env-schema.ts`). */
interface GatewayLimits {
  /** Largest client message in bytes (RESOURCE_EXHAUSTED above it); 0 = no limit. */
  readonly maxMessageBytes: number;
  readonly maxReplayBufferBytes: number;
  readonly shutdownGraceMs: number;
  readonly handshakeTimeoutMs: number;
  /** 0 = never. */
  readonly idleTimeoutMs: number;
}

/**
 * TLS of the gRPC listener (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE): the PEM contents,
 * read when the config is loaded (start-up and every reload).
 */
export interface DownstreamTlsConfig {
  readonly certFile: string;
  readonly cert: string;
  readonly keyFile: string;
  readonly key: string;
  /** Mutual TLS: clients must present a certificate issued by this CA. */
  readonly clientCaFile?: string;
  readonly clientCa?: string;
}

/** Where sticky bindings live (YAML `session_store`, SESSION_STORE_URL overriding its url). */
type SessionStoreConfig = { readonly type: 'memory' } | { readonly type: 'redis'; readonly url: string };

export interface GatewayConfig {
  /** SERVICE_PORT_GRPC */
  readonly port: number;
  /** LISTEN_HOST */
  readonly host: string;
  /** Absolute path of the YAML file that was loaded. */
  readonly configPath: string;
  /** JWT_SECRET (or JWT_SECRET_FILE), trimmed; undefined when no route requires authorization and none was given. */
  readonly jwtSecret: string | undefined;
  /** JWT_SECRET_PREVIOUS(_FILE): tokens signed with it are accepted too (secret rotation). */
  readonly jwtPreviousSecret?: string;
  readonly retryCount: number;
  readonly retryTimeoutMs: number;
  readonly default: DefaultAction;
  /** In file order (the route table sorts them). */
  readonly routes: readonly RouteConfig[];
  /** In file order. */
  readonly clusters: readonly ClusterConfig[];
  readonly limits: GatewayLimits;
  readonly sessionStore: SessionStoreConfig;
  /** TLS_CERT_FILE and friends; undefined = cleartext HTTP/2 (h2c). */
  readonly tls?: DownstreamTlsConfig;
  /** GATEWAY_WORKERS: processes sharing the port (1 = no node:cluster). */
  readonly workers: number;
}
