// Services declare their config schemas with the TypeBox this kit validates.
export { type Static, Type } from '@sinclair/typebox';
export { ConfigError } from './config-error.js';
export { type ConfigProblem, isWithin, type PathSegment } from './config-problem.js';
export { deepFreeze } from './deep-freeze.js';
export { checkDocument, describeValue } from './document-config.js';
export {
  checkEnv,
  type Env,
  type EnvConfigSteps,
  type EnvExtras,
  inDeclarationOrder,
  loadEnvConfig,
  loadEnvConfigWith,
} from './env-config.js';
export { type ShutdownableServer, shutdownGracefully } from './grpc-shutdown.js';
export { LOG_LEVELS, type LogLevel } from './log-levels.js';
export { loadConfigOrExit, refuseToStart } from './refuse-start.js';
export type { Message, Messages } from './schema-check.js';
export { stringEnum, taggedUnion } from './schema-types.js';
export { readSecretSetting, type SecretSetting } from './secret-setting.js';
export { MAX_TIMER_MS } from './timers.js';
