/**
 * Public API of the gateway package: build a gateway from a configuration and plug in extensions.
 * See README.md, "Extending the gateway".
 */

// TypeBox, for the YAML schema of an added cluster type (`LoadConfigOptions.clusterTypes`).
export { ConfigError, type Static, Type } from '@stickygw/servicekit';
export type { Balancer, PickContext, PickResult, SettledPick } from './balancer/balancer.js';
export { ExclusiveStickyBalancer } from './balancer/exclusive-sticky-balancer.js';
export { InMemorySessionStore } from './balancer/in-memory-session-store.js';
export { RoundRobinBalancer } from './balancer/round-robin-balancer.js';
export type { SessionStore } from './balancer/session-store.js';
export {
  type Cluster,
  type ClusterSnapshot,
  type EndpointsRemovedListener,
  type InstanceState,
  type InstanceStatus,
  type RemovalCause,
  snapshotOf,
} from './cluster/cluster.js';
export {
  type ClusterContext,
  type ClusterFactory,
  DEFAULT_CLUSTER_FACTORIES,
} from './cluster/cluster-manager.js';
export type { DiscoveredInstance, DiscovererClient } from './cluster/discoverer-client.js';
export { DynamicCluster, type DynamicClusterOptions } from './cluster/dynamic-cluster.js';
export { type Endpoint, makeEndpoint } from './cluster/endpoint.js';
export { HttpDiscovererClient } from './cluster/http-discoverer-client.js';
export { type LoadConfigOptions, loadGatewayConfig } from './config/load-config.js';
export type {
  ClusterConfig,
  DynamicClusterConfig,
  ExtensionClusterConfig,
  GatewayConfig,
  RouteConfig,
  StaticClusterConfig,
} from './config/types.js';
export type { ClusterTypeSchema } from './config/yaml-schema.js';
export {
  type CallContext,
  CONTINUE,
  type FilterDecision,
  type HeaderFilter,
} from './filters/header-filter.js';
export { Hs256TokenValidator, type TokenValidator } from './filters/hs256-token-validator.js';
export { JwtAuthFilter } from './filters/jwt-auth-filter.js';
export {
  type ClusterInstances,
  createGateway,
  defaultBalancer,
  type Gateway,
  type GatewayDeps,
  type GatewayStats,
  type ReloadOutcome,
} from './gateway.js';
export { GatewayError, type GatewayErrorReason } from './grpc/gateway-error.js';
export { firstMetadataValue } from './grpc/metadata.js';
export { RequestHeaders } from './grpc/request-headers.js';
export { GatewayMessage, Status, type StatusCode } from './grpc/status.js';
export { type AccessLog, type AccessLogEntry, PinoAccessLog } from './observability/access-log.js';
export { createLogger, type Logger } from './observability/logger.js';
export type { Route } from './routing/route-table.js';
export { UpstreamConnection, type UpstreamConnectionOptions } from './upstream/upstream-connection.js';
