export { getFreePort } from './free-port.js';
export { type StartedRedis, hasRedisServer, redisServerBinary, startRedis } from './redis-server.js';
export { type WaitForOptions, waitFor } from './wait-for.js';
