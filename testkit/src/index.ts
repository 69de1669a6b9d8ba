export { buildWorkspace } from './build-workspace.js';
export { type DiscoveredInstance, listInstances, parseInstances } from './discovered-instance.js';
export { FakeDiscoverer } from './fake-discoverer.js';
export { getFreePort, isPortFree } from './free-port.js';
export { type DynamicClusterExtras, GatewayYaml, referenceGatewayYaml } from './gateway-yaml.js';
export { type Http2Exchange, http2Exchange } from './http2-exchange.js';
export { describeExit, type ExitStatus, ManagedProcess, type ProcessSpec, tail } from './managed-process.js';
export { type StartedRedisCluster, startRedisCluster } from './redis-cluster.js';
export { type RedisServerOptions, redisServerSpec, type StartedRedis, startRedis } from './redis-server.js';
export { type TempFiles, writeTempFiles } from './temp-files.js';
export {
  type CertificateFiles,
  generateTestCertificates,
  type TestCertificates,
} from './test-certificates.js';
export { thrownBy } from './thrown-by.js';
export { waitFor } from './wait-for.js';
