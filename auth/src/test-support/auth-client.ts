import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  type LoginRequest,
  type LoginResponse__Output,
  loadMyServiceProto,
  type MyServiceAPIClient,
} from '@stickygw/proto';
import { service as healthService } from 'grpc-health-check';

const CALL_TIMEOUT_MS = 5_000;

function deadline(): Date {
  return new Date(Date.now() + CALL_TIMEOUT_MS);
}

/** A real grpc-js client of the contract, pointed at a local auth server. */
export function createAuthClient(port: number): MyServiceAPIClient {
  const proto = loadMyServiceProto();
  return new proto.my_service.MyServiceAPI(`127.0.0.1:${port}`, credentials.createInsecure());
}

/** Login; rejects with the grpc-js ServiceError on a non-OK status. */
export function login(client: MyServiceAPIClient, request: LoginRequest): Promise<LoginResponse__Output> {
  return new Promise((resolve, reject) => {
    client.Login(request, { deadline: deadline() }, (error, response) => {
      if (error !== null) reject(error);
      else if (response === undefined) reject(new Error('Login answered OK without a response'));
      else resolve(response);
    });
  });
}

/** The status of a Login that must fail: `{code, details}`. */
export async function loginFailure(
  client: MyServiceAPIClient,
  request: LoginRequest,
): Promise<{ code: number; details: string }> {
  try {
    await login(client, request);
  } catch (error) {
    const { code, details } = error as ServiceError;
    return { code, details };
  }
  throw new Error(`Login of ${JSON.stringify(request.username)} succeeded but was expected to fail`);
}

/** grpc.health.v1.Health/Check for `service`; resolves with the status name (e.g. `SERVING`). */
export function healthCheck(port: number, service = ''): Promise<string> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const check = healthService.Check;
  return new Promise<string>((resolve, reject) => {
    client.makeUnaryRequest(
      check.path,
      check.requestSerialize,
      check.responseDeserialize,
      { service },
      new Metadata(),
      { deadline: deadline() },
      (error, response) => {
        if (error !== null) reject(error);
        else resolve(String((response as { status?: unknown } | undefined)?.status));
      },
    );
  }).finally(() => client.close());
}

/**
 * Asks server reflection (v1) to list the services, with a hand-encoded request
 * (`ServerReflectionRequest.list_services`, field 7, empty string). Resolves with the raw response.
 */
export function reflectionListServices(port: number): Promise<Buffer> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) => {
    const call = client.makeBidiStreamRequest(
      '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
      (message: Buffer) => message,
      (bytes: Buffer) => bytes,
      new Metadata(),
      { deadline: deadline() },
    );
    call.on('data', (response: Buffer) => {
      resolve(response);
      call.cancel();
    });
    call.on('error', (error: ServiceError) => reject(error));
    call.write(Buffer.from([0x3a, 0x00]));
    call.end();
  }).finally(() => client.close());
}
