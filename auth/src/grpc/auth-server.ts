import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { type LoginRequest__Output, type LoginResponse, loadMyServiceProto } from '@stickygw/proto';
import { shutdownGracefully } from '@stickygw/servicekit';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import type { Logger } from '../logger.js';
import type { LoginService } from '../login/login-service.js';
import { toGrpcStatus } from './to-grpc-status.js';

export interface AuthServerDeps {
  readonly login: LoginService;
  readonly logger: Logger;
}

/** The auth service's gRPC server: Login, grpc.health.v1.Health and server reflection. */
export interface AuthServer {
  /** Binds `host:port` (port 0 picks a free one) and resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /**
   * Stops accepting calls, lets in-flight calls finish, and after `graceMs` cancels whatever is
   * still running. Health turns NOT_SERVING first.
   */
  shutdown(graceMs: number): Promise<void>;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Reflection needs protobuf file descriptors; the loaded message types carry them, so the loaded
 * contract and the health service's own definition are enough (no second proto loader here).
 */
function createReflection(): ReflectionService {
  const proto = loadMyServiceProto();
  return new ReflectionService(
    {
      'my_service.LoginRequest': proto.my_service.LoginRequest,
      'grpc.health.v1.HealthCheckRequest': healthService.Check.requestType,
    },
    { services: ['my_service.MyServiceAPI', 'grpc.health.v1.Health'] },
  );
}

export function createAuthServer(deps: AuthServerDeps): AuthServer {
  const { login, logger } = deps;
  const server = new Server();
  const proto = loadMyServiceProto();
  // Only Login is implemented: grpc-js answers the contract's other methods with UNIMPLEMENTED.
  server.addService(proto.my_service.MyServiceAPI.service, {
    Login: (
      call: ServerUnaryCall<LoginRequest__Output, LoginResponse>,
      callback: sendUnaryData<LoginResponse>,
    ) => {
      const started = performance.now();
      const finish = (code: status) =>
        logger.debug(
          { method: 'Login', username: call.request.username, code, durationMs: performance.now() - started },
          'call finished',
        );
      login.login(call.request).then(
        (response) => {
          finish(status.OK);
          callback(null, response);
        },
        (error: unknown) => {
          const { code, details } = toGrpcStatus(error);
          if (code === status.UNKNOWN) logger.error({ err: error }, 'Login failed unexpectedly');
          finish(code);
          callback({ code, details });
        },
      );
    },
  });
  const health = new HealthImplementation({ '': 'SERVING' });
  health.addToServer(server);
  createReflection().addToServer(server);

  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.bindAsync(hostPort(host, port), ServerCredentials.createInsecure(), (error, boundPort) =>
          error === null ? resolve(boundPort) : reject(error),
        );
      }),
    shutdown: (graceMs) => {
      health.setStatus('', 'NOT_SERVING');
      return shutdownGracefully(server, graceMs, () =>
        logger.warn({ graceMs }, 'calls still running after the grace period, cancelling them'),
      );
    },
  };
}
