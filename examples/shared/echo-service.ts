import * as grpc from '@grpc/grpc-js';

/**
 * A gRPC service without a .proto, so each example stays one folder: one unary method whose request
 * and response are JSON bytes (the gateway never decodes payloads, so any bytes would do).
 * Request `{ "sleepMs"?: number, "reportLoad"?: boolean }`: the backend answers after that long.
 * Response `{ "backend": name, "inFlight"?: number }`.
 */
export const ECHO_SERVICE = 'example.v1.Echo';

export interface EchoRequest {
  readonly sleepMs?: number;
  /** Ask for `inFlight` in the reply. */
  readonly reportLoad?: boolean;
}

export interface EchoReply {
  readonly backend: string;
  /** With `reportLoad`: calls this backend was serving when this one arrived, itself included. */
  readonly inFlight?: number;
}

const bytes = (buffer: Buffer): Buffer => buffer;

/** The method `Call` of `service` with pass-through serializers. */
function callMethod(service: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: `/${service}/Call`,
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  };
}

/** Serves `Call` of `service` on `host` (a loopback address), `port` (0: any free one); resolves with the port. */
export async function serveEcho(
  server: grpc.Server,
  options: { readonly name: string; readonly service: string; readonly host: string; readonly port: number },
): Promise<number> {
  let inFlight = 0;
  server.addService(
    { Call: callMethod(options.service) },
    {
      Call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        let request: EchoRequest = {};
        try {
          request = JSON.parse(call.request.toString('utf8') || '{}') as EchoRequest;
        } catch {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: 'request is not JSON' });
          return;
        }
        inFlight++;
        const reply: EchoReply =
          request.reportLoad === true ? { backend: options.name, inFlight } : { backend: options.name };
        setTimeout(
          () => {
            inFlight--;
            callback(null, Buffer.from(JSON.stringify(reply)));
          },
          Math.max(0, request.sleepMs ?? 0),
        );
      },
    },
  );
  return new Promise((resolve, reject) => {
    if (!options.host.startsWith('127.')) {
      reject(new Error(`the example backends bind to loopback only, got HOST=${options.host}`));
      return;
    }
    server.bindAsync(
      `${options.host}:${options.port}`,
      grpc.ServerCredentials.createInsecure(),
      (error, port) => (error ? reject(error) : resolve(port)),
    );
  });
}

/** A failed call as the client saw it. */
export interface CallFailure {
  readonly code: grpc.status;
  readonly details: string;
}

/** One `Call` of `service` through `address`; resolves with the reply or the failure, never rejects. */
export function callEcho(
  client: grpc.Client,
  options: {
    readonly service?: string;
    readonly request?: EchoRequest;
    readonly metadata?: Readonly<Record<string, string>>;
    readonly timeoutMs?: number;
  } = {},
): Promise<EchoReply | CallFailure> {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  const method = callMethod(options.service ?? ECHO_SERVICE);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      Buffer.from(JSON.stringify(options.request ?? {})),
      metadata,
      { deadline: Date.now() + (options.timeoutMs ?? 10_000) },
      (error, reply) => {
        if (error) resolve({ code: error.code, details: error.details });
        else resolve(JSON.parse((reply as Buffer).toString('utf8')) as EchoReply);
      },
    );
  });
}

export function isFailure(outcome: EchoReply | CallFailure): outcome is CallFailure {
  return 'code' in outcome;
}

export function echoClient(address: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure());
}
