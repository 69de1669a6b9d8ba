import { describe, expect, it } from 'vitest';
import { decodeHealthCheckResponse, encodeHealthCheckRequest, ServingStatus } from './health-check-codec.js';

const frame = (message: Buffer): Buffer => {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
};

describe('health check codec', () => {
  it('encodes the request: field 1 as a length-delimited string, empty when blank', () => {
    expect(encodeHealthCheckRequest('')).toEqual(Buffer.alloc(5));
    expect(encodeHealthCheckRequest('my_service.MyServiceAPI')).toEqual(
      frame(Buffer.concat([Buffer.of(0x0a, 23), Buffer.from('my_service.MyServiceAPI')])),
    );
    const long = 'x'.repeat(200);
    expect(encodeHealthCheckRequest(long).subarray(5, 8)).toEqual(Buffer.of(0x0a, 0xc8, 0x01));
  });

  it('decodes every serving status, an empty message as UNKNOWN, and skips unknown fields', () => {
    expect(decodeHealthCheckResponse(frame(Buffer.of(0x08, 1)))).toBe(ServingStatus.SERVING);
    expect(decodeHealthCheckResponse(frame(Buffer.of(0x08, 2)))).toBe(ServingStatus.NOT_SERVING);
    expect(decodeHealthCheckResponse(frame(Buffer.of(0x08, 3)))).toBe(ServingStatus.SERVICE_UNKNOWN);
    expect(decodeHealthCheckResponse(frame(Buffer.alloc(0)))).toBe(ServingStatus.UNKNOWN);
    expect(decodeHealthCheckResponse(frame(Buffer.of(0x12, 2, 0x61, 0x62, 0x08, 1, 0x18, 0x96, 0x01)))).toBe(
      ServingStatus.SERVING,
    );
  });

  it('refuses compressed, truncated, trailing or malformed bodies', () => {
    expect(decodeHealthCheckResponse(Buffer.alloc(0))).toBeUndefined();
    expect(decodeHealthCheckResponse(Buffer.of(1, 0, 0, 0, 2, 0x08, 1))).toBeUndefined();
    expect(decodeHealthCheckResponse(Buffer.of(0, 0, 0, 0, 3, 0x08, 1))).toBeUndefined();
    expect(
      decodeHealthCheckResponse(Buffer.concat([frame(Buffer.of(0x08, 1)), Buffer.of(0)])),
    ).toBeUndefined();
    expect(decodeHealthCheckResponse(frame(Buffer.of(0x08, 0x80)))).toBeUndefined();
    expect(decodeHealthCheckResponse(frame(Buffer.of(0x12, 9, 0x61)))).toBeUndefined();
    expect(decodeHealthCheckResponse(frame(Buffer.of(0x0b)))).toBeUndefined();
  });
});
