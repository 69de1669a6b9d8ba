import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  type EchoResponse__Output,
  loadMyServiceProto,
  type MyServiceAPIClient,
  type ShutdownResponse__Output,
} from '@stickygw/proto';

export type CallResult<T> = { ok: true; value: T } | { ok: false; code: number; message: string };

export function createWorkerClient(port: number): MyServiceAPIClient {
  const proto = loadMyServiceProto();
  return new proto.my_service.MyServiceAPI(`127.0.0.1:${port}`, credentials.createInsecure());
}

/** Metadata as the gateway forwards it; `undefined` leaves a key out. */
export function callMetadata(authorization: string | undefined, sessionId: string | undefined): Metadata {
  const metadata = new Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  if (sessionId !== undefined) metadata.set('session-id', sessionId);
  return metadata;
}

const settle =
  <T>(resolve: (result: CallResult<T>) => void) =>
  (error: ServiceError | null, value?: T) => {
    if (error !== null) resolve({ ok: false, code: error.code, message: error.details });
    else resolve({ ok: true, value: value as T });
  };

export function echo(
  client: MyServiceAPIClient,
  value: string,
  metadata: Metadata,
): Promise<CallResult<EchoResponse__Output>> {
  return new Promise((resolve) => {
    client.MyServiceEcho({ value }, metadata, { deadline: Date.now() + 10_000 }, settle(resolve));
  });
}

export function shutdown(
  client: MyServiceAPIClient,
  metadata: Metadata,
): Promise<CallResult<ShutdownResponse__Output>> {
  return new Promise((resolve) => {
    client.MyServiceShutdown({}, metadata, { deadline: Date.now() + 10_000 }, settle(resolve));
  });
}
