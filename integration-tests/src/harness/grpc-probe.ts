import { Client, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';

export interface ProbeAnswer {
  /** gRPC status code of the answer (0 = OK). */
  readonly code: number;
  readonly details: string;
  readonly response: Buffer | undefined;
}

const passThrough = (value: Buffer): Buffer => value;

/**
 * Sends one unary call with an opaque payload and reports how it ended. Used as a readiness probe,
 * so it never needs the callee's `.proto`: the request and response stay raw bytes.
 */
export async function probeUnary(
  address: string,
  method: string,
  payload: Buffer,
  timeoutMs: number,
): Promise<ProbeAnswer> {
  const client = new Client(address, credentials.createInsecure(), {
    // A probe must see the server as it is now, not a connection shared with earlier probes.
    'grpc.use_local_subchannel_pool': 1,
  });
  try {
    return await new Promise<ProbeAnswer>((resolve) => {
      client.makeUnaryRequest(
        method,
        passThrough,
        passThrough,
        payload,
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (error: ServiceError | null, response?: Buffer) => {
          if (error) resolve({ code: error.code, details: error.details, response: undefined });
          else resolve({ code: status.OK, details: '', response });
        },
      );
    });
  } finally {
    client.close();
  }
}

/** `grpc.health.v1.HealthCheckResponse.ServingStatus` values. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

/**
 * `grpc.health.v1.Health/Check` for the overall service (empty request). The response holds one
 * varint field (`status = 1`), decoded by hand so the harness needs no health proto.
 */
export async function checkGrpcHealth(address: string, timeoutMs: number): Promise<string> {
  const answer = await probeUnary(address, '/grpc.health.v1.Health/Check', Buffer.alloc(0), timeoutMs);
  if (answer.code !== status.OK) throw new Error(`health check answered ${answer.code} ${answer.details}`);
  const bytes = answer.response ?? Buffer.alloc(0);
  const value = bytes.length >= 2 && bytes[0] === 0x08 ? (bytes[1] ?? 0) : 0;
  return SERVING_STATUS[value] ?? `status ${value}`;
}
