export { getFreePort } from './free-port.js';
export { hasRedisServer, redisServerBinary, type StartedRedis, startRedis } from './redis-server.js';
export { type WaitForOptions, waitFor } from './wait-for.js';
