import { type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, status } from '@grpc/grpc-js';
import type {
  EchoRequest__Output,
  EchoResponse,
  MyServiceAPIHandlers,
  ShutdownRequest__Output,
  ShutdownResponse,
} from '@stickygw/proto';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/token-verifier.js';
import { firstMetadataValue } from '../grpc/first-metadata-value.js';
import { type RpcError, toServiceError } from '../grpc/rpc-error.js';
import type { SessionBinding } from '../session/session-binding.js';

const SERVER_VALUE = 'my_service';

export interface WorkerHandlerDeps {
  instanceId: string;
  verifier: TokenVerifier;
  session: SessionBinding;
  subscribeIntervalMs: number;
  logger: Logger;
  /** Called once a successful MyServiceShutdown reply has been handed to grpc-js. */
  onShutdownRequested: () => void;
}

/** The worker's RPCs; Login belongs to the auth service and is left unimplemented here. */
type WorkerHandlers = Pick<
  MyServiceAPIHandlers,
  'MyServiceEcho' | 'MyServiceSubscribe' | 'MyServiceShutdown'
>;

export interface WorkerHandlersHandle {
  handlers: WorkerHandlers;
  /** Number of MyServiceSubscribe streams whose timer is still running. */
  activeSubscriptions(): number;
}

interface CallMetadata {
  authorization: string | undefined;
  sessionId: string | undefined;
}

/**
 * Builds the three handlers. Each one first runs the token check of REFERENCE.md 5.4 (the
 * reference's interceptor), then the session rules of 5.3/5.5.
 */
export function createWorkerHandlers(deps: WorkerHandlerDeps): WorkerHandlersHandle {
  const { instanceId, verifier, session, logger } = deps;
  let subscriptions = 0;

  const readMetadata = (
    call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>,
  ) => ({
    authorization: firstMetadataValue(call.metadata, 'authorization'),
    sessionId: firstMetadataValue(call.metadata, 'session-id'),
  });

  const authenticate = async (metadata: CallMetadata, method: string): Promise<RpcError | undefined> => {
    const denied = await verifier.verify(metadata.authorization, metadata.sessionId);
    if (denied !== undefined)
      logger.debug({ method, code: denied.code, reason: denied.message }, 'call refused');
    return denied;
  };

  /** Token check, then the synchronous check-and-bind: no `await` may come after the token check
   *  and before `bind` returns, or two first calls could interleave. */
  const authenticateAndBind = async (metadata: CallMetadata, method: string): Promise<RpcError | string> => {
    const denied = await authenticate(metadata, method);
    if (denied !== undefined) return denied;
    const wasBound = session.current() !== undefined;
    const bound = session.bind(metadata.sessionId);
    if (!bound.ok) {
      logger.info({ method, code: bound.error.code, reason: bound.error.message }, 'session refused');
      return bound.error;
    }
    if (!wasBound) logger.info({ method, session: bound.session }, 'session bound');
    return bound.session;
  };

  const echoResponse = (
    value: string,
    clientSession: string,
    index: number,
    method: string,
  ): EchoResponse => ({
    client_value: value,
    server_value: SERVER_VALUE,
    pod_name: instanceId,
    // Re-read for every message (REFERENCE.md 5.5); once bound it cannot change, but this is the contract.
    server_session_id: session.current() ?? '',
    client_session_id: clientSession,
    index,
    server_method: method,
  });

  const MyServiceEcho = (
    call: ServerUnaryCall<EchoRequest__Output, EchoResponse>,
    callback: sendUnaryData<EchoResponse>,
  ): void => {
    const metadata = readMetadata(call);
    run(
      logger,
      'MyServiceEcho',
      (error) => callback(toServiceError(error)),
      async () => {
        const outcome = await authenticateAndBind(metadata, 'MyServiceEcho');
        if (typeof outcome !== 'string') return callback(toServiceError(outcome));
        callback(null, echoResponse(call.request.value, outcome, 0, 'MyServiceEcho'));
      },
    );
  };

  const MyServiceSubscribe = (call: ServerWritableStream<EchoRequest__Output, EchoResponse>): void => {
    const metadata = readMetadata(call);
    const fail = (error: RpcError): void => {
      call.emit('error', toServiceError(error));
    };
    run(logger, 'MyServiceSubscribe', fail, async () => {
      const outcome = await authenticateAndBind(metadata, 'MyServiceSubscribe');
      if (typeof outcome !== 'string') return fail(outcome);
      if (call.cancelled) return;

      let index = 0;
      let timer: NodeJS.Timeout | undefined;
      const stop = () => {
        if (timer === undefined) return;
        clearInterval(timer);
        timer = undefined;
        subscriptions--;
      };
      const send = () => {
        if (call.cancelled || call.writableEnded || call.destroyed) return stop();
        call.write(echoResponse(call.request.value, outcome, index++, 'MyServiceSubscribe'));
      };
      // The stream never ends on its own (REFERENCE.md 5.5): only the client's cancellation, a failed
      // call or the server going away stops it, and each of those must stop the timer.
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
      timer = setInterval(send, deps.subscribeIntervalMs);
      subscriptions++;
      send();
    });
  };

  const MyServiceShutdown = (
    call: ServerUnaryCall<ShutdownRequest__Output, ShutdownResponse>,
    callback: sendUnaryData<ShutdownResponse>,
  ): void => {
    const metadata = readMetadata(call);
    run(
      logger,
      'MyServiceShutdown',
      (error) => callback(toServiceError(error)),
      async () => {
        const denied = await authenticate(metadata, 'MyServiceShutdown');
        if (denied !== undefined) return callback(toServiceError(denied));
        const check = session.checkShutdown(metadata.sessionId);
        if (!check.ok) return callback(toServiceError(check.error));
        callback(null, {
          pod_name: instanceId,
          server_session_id: check.serverSession,
          client_session_id: check.clientSession,
          index: 0,
          server_method: 'MyServiceShutdown',
        });
        logger.info({ session: check.serverSession }, 'shutdown requested');
        deps.onShutdownRequested();
      },
    );
  };

  return {
    handlers: { MyServiceEcho, MyServiceSubscribe, MyServiceShutdown },
    activeSubscriptions: () => subscriptions,
  };
}

const INTERNAL_ERROR: RpcError = { code: status.INTERNAL, message: 'internal error' };

/** Runs an async handler body; a bug in it becomes INTERNAL for the caller instead of an unhandled rejection. */
function run(
  logger: Logger,
  method: string,
  fail: (error: RpcError) => void,
  body: () => Promise<void>,
): void {
  body().catch((error: unknown) => {
    logger.error({ err: error, method }, 'handler failed');
    fail(INTERNAL_ERROR);
  });
}
