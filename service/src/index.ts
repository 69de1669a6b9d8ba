export { ConfigError } from '@stickygw/servicekit';
export { TokenVerifier } from './auth/token-verifier.js';
export { loadConfig } from './config/load-config.js';
export type { ServiceConfig } from './config/service-config.js';
export {
  Registration,
  type RegistrationOptions,
  type RegistrationState,
} from './registration/registration.js';
export {
  type StartedWorkerServer,
  startWorkerServer,
  type WorkerServerOptions,
} from './server/worker-server.js';
export { SessionBinding } from './session/session-binding.js';
