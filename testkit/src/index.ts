export { buildWorkspace } from './build-workspace.js';
export { type DiscoveredInstance, listInstances, parseInstances } from './discovered-instance.js';
export {
  FakeDiscoverer,
  type RecordedList,
  type RecordedRequest,
  type RecordedUnregister,
} from './fake-discoverer.js';
export { getFreePort } from './free-port.js';
export {
  GatewayYaml,
  type GatewayYamlCluster,
  type GatewayYamlDocument,
  type GatewayYamlRoute,
  type ReferenceGatewayOptions,
  type RouteOptions,
  referenceGatewayYaml,
} from './gateway-yaml.js';
export {
  describeExit,
  type ExitStatus,
  listeningPort,
  ManagedProcess,
  type ProcessSpec,
  tail,
  type WaitForLineOptions,
} from './managed-process.js';
export {
  hasRedisServer,
  redisServerBinary,
  redisServerSpec,
  type StartedRedis,
  startRedis,
} from './redis-server.js';
export { type WaitForOptions, waitFor } from './wait-for.js';
