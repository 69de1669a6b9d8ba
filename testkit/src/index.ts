export { buildWorkspace } from './build-workspace.js';
export { getFreePort } from './free-port.js';
export {
  describeExit,
  type ExitStatus,
  listeningPort,
  ManagedProcess,
  type ProcessSpec,
  tail,
  type WaitForLineOptions,
} from './managed-process.js';
export { hasRedisServer, redisServerBinary, type StartedRedis, startRedis } from './redis-server.js';
export { type WaitForOptions, waitFor } from './wait-for.js';
