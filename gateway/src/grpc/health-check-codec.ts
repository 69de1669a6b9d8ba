/**
 * The two messages of `grpc.health.v1.Health/Check`, encoded by hand: the gateway's own control
 * traffic to its instances, not the proxied data path (which never parses protobuf). Both are one
 * field: `HealthCheckRequest { string service = 1; }`, `HealthCheckResponse { ServingStatus status = 1; }`
 * (grpc/grpc `src/proto/grpc/health/v1/health.proto`).
 */

export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/** `HealthCheckResponse.ServingStatus`. */
export const ServingStatus = Object.freeze({
  UNKNOWN: 0,
  SERVING: 1,
  NOT_SERVING: 2,
  SERVICE_UNKNOWN: 3,
});

/** The request as one length-prefixed gRPC message (uncompressed); `""` is the empty message. */
export function encodeHealthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const field =
    name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.of(0x0a), varint(name.length), name]);
  const framed = Buffer.alloc(5 + field.length);
  framed.writeUInt32BE(field.length, 1);
  field.copy(framed, 5);
  return framed;
}

/**
 * The `status` of a length-prefixed `HealthCheckResponse` (all DATA of the response, concatenated);
 * undefined when it is not exactly one well-formed uncompressed message. Unknown fields are skipped,
 * an absent status is UNKNOWN (proto3 default).
 */
export function decodeHealthCheckResponse(body: Buffer): number | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) return undefined;
  let status: number = ServingStatus.UNKNOWN;
  let at = 5;
  while (at < body.length) {
    const key = readVarint(body, at);
    if (key === undefined) return undefined;
    at = key.next;
    const fieldNumber = key.value >>> 3;
    const wireType = key.value & 7;
    if (wireType === 0) {
      const value = readVarint(body, at);
      if (value === undefined) return undefined;
      at = value.next;
      if (fieldNumber === 1) status = value.value;
    } else if (wireType === 2) {
      const size = readVarint(body, at);
      if (size === undefined || size.next + size.value > body.length) return undefined;
      at = size.next + size.value;
    } else if (wireType === 1 || wireType === 5) {
      at += wireType === 1 ? 8 : 4;
      if (at > body.length) return undefined;
    } else {
      return undefined;
    }
  }
  return status;
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A varint of at most 32 significant bits (field keys, lengths, enum values). */
function readVarint(buf: Buffer, start: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 10 && start + i < buf.length; i++) {
    const byte = buf[start + i] as number;
    if (i < 5) value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value: value >>> 0, next: start + i + 1 };
  }
  return undefined;
}
