import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  type EchoResponse__Output,
  type LoginResponse__Output,
  loadMyServiceProto,
  type MyServiceAPIClient,
  type ShutdownResponse__Output,
} from '@stickygw/proto';
import { CALL_TIMEOUT_MS, ECHO_VALUE } from './constants.js';
import { StreamReader } from './stream-reader.js';

export type CallResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: ServiceError };

/** What a call carries: `authorization` and `session-id` metadata, each only when given. */
export interface Credentials {
  readonly token?: string;
  readonly sessionId?: string;
}

let proto: ReturnType<typeof loadMyServiceProto> | undefined;

/**
 * A new plaintext channel to `address`. grpc-js shares connections between clients of the same
 * target by default; the local subchannel pool makes each client its own connection, as the
 * reference's "each client is a new channel" intends.
 */
export function createClient(address: string): MyServiceAPIClient {
  proto ??= loadMyServiceProto();
  return new proto.my_service.MyServiceAPI(address, credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
}

function callMetadata(creds: Credentials): Metadata {
  const metadata = new Metadata();
  if (creds.token !== undefined) metadata.set('authorization', creds.token);
  if (creds.sessionId !== undefined) metadata.set('session-id', creds.sessionId);
  return metadata;
}

function settle<T>(resolve: (result: CallResult<T>) => void) {
  return (error: ServiceError | null, value?: T) => {
    if (error) resolve({ ok: false, error });
    else resolve({ ok: true, value: value as T });
  };
}

export function callLogin(
  client: MyServiceAPIClient,
  request: { username: string; password: string; session_id: string },
  timeoutMs = CALL_TIMEOUT_MS,
): Promise<CallResult<LoginResponse__Output>> {
  return new Promise((resolve) => {
    client.Login(request, new Metadata(), { deadline: Date.now() + timeoutMs }, settle(resolve));
  });
}

export function callEcho(
  client: MyServiceAPIClient,
  creds: Credentials,
  value = ECHO_VALUE,
  timeoutMs = CALL_TIMEOUT_MS,
): Promise<CallResult<EchoResponse__Output>> {
  return new Promise((resolve) => {
    client.MyServiceEcho(
      { value },
      callMetadata(creds),
      { deadline: Date.now() + timeoutMs },
      settle(resolve),
    );
  });
}

export function callShutdown(
  client: MyServiceAPIClient,
  creds: Credentials,
  timeoutMs = CALL_TIMEOUT_MS,
): Promise<CallResult<ShutdownResponse__Output>> {
  return new Promise((resolve) => {
    client.MyServiceShutdown({}, callMetadata(creds), { deadline: Date.now() + timeoutMs }, settle(resolve));
  });
}

/** Opens `MyServiceSubscribe`; the reader must be cancelled by the caller. */
export function openSubscribe(
  client: MyServiceAPIClient,
  creds: Credentials,
  value = ECHO_VALUE,
): StreamReader<EchoResponse__Output> {
  return new StreamReader(client.MyServiceSubscribe({ value }, callMetadata(creds)));
}
