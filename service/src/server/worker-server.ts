import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadMyServiceProto } from '@stickygw/proto';
import { shutdownGracefully } from '@stickygw/servicekit';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { TokenVerifier } from '../auth/token-verifier.js';
import { SessionBinding } from '../session/session-binding.js';
import { createWorkerHandlers } from './worker-handlers.js';

export interface WorkerServerOptions {
  instanceId: string;
  jwtSecret: string;
  /** Tokens signed with this secret pass too, until it is removed (secret rotation). */
  jwtPreviousSecret?: string | undefined;
  subscribeIntervalMs: number;
  listenHost: string;
  /** `0` binds a free port; {@link StartedWorkerServer.port} tells which. */
  port: number;
  logger: Logger;
  /** Called after a successful MyServiceShutdown reply; the owner decides how the process ends. */
  onShutdownRequested: () => void;
  /** Injected clock for the token check (epoch ms). */
  now?: () => number;
}

export interface StartedWorkerServer {
  /** The port actually bound. */
  readonly port: number;
  readonly session: SessionBinding;
  activeSubscriptions(): number;
  /**
   * Stops accepting calls and waits up to `graceMs` for in-flight calls (MyServiceSubscribe never ends
   * by itself), then cancels whatever is left. Resolves once the server is down; safe to call twice.
   */
  stop(graceMs: number): Promise<void>;
}

/**
 * Starts the worker's gRPC server (REFERENCE.md 5): the three MyService* RPCs behind the token
 * check, and `grpc.health.v1.Health` reporting SERVING for "" and for the service.
 */
export async function startWorkerServer(options: WorkerServerOptions): Promise<StartedWorkerServer> {
  const session = new SessionBinding();
  const { handlers, activeSubscriptions } = createWorkerHandlers({
    instanceId: options.instanceId,
    verifier: new TokenVerifier(options.jwtSecret, options.now, options.jwtPreviousSecret),
    session,
    subscribeIntervalMs: options.subscribeIntervalMs,
    logger: options.logger,
    onShutdownRequested: options.onShutdownRequested,
  });

  const server = new Server();
  const proto = loadMyServiceProto();
  // Login is part of the shared contract but served by auth; grpc-js answers it UNIMPLEMENTED here.
  server.addService(proto.my_service.MyServiceAPI.service, handlers as UntypedServiceImplementation);
  new HealthImplementation({ '': 'SERVING', 'my_service.MyServiceAPI': 'SERVING' }).addToServer(server);

  const host = options.listenHost.includes(':') ? `[${options.listenHost}]` : options.listenHost;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port}`, ServerCredentials.createInsecure(), (error, boundPort) =>
      error === null ? resolve(boundPort) : reject(error),
    );
  });

  let stopping: Promise<void> | undefined;
  const stop = (graceMs: number): Promise<void> => {
    stopping ??= shutdownGracefully(server, graceMs);
    return stopping;
  };

  return { port, session, activeSubscriptions, stop };
}
