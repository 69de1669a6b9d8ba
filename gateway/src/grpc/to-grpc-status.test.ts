import { constants } from 'node:http2';
import { describe, expect, it } from 'vitest';
import { backendUnavailable, GatewayError } from './gateway-error.js';
import { Status } from './status.js';
import { statusFromRstCode, toGrpcStatus } from './to-grpc-status.js';

describe('toGrpcStatus (REFERENCE.md 6.13, gateway-detected errors)', () => {
  it.each([
    [
      new GatewayError(Status.UNIMPLEMENTED, 'no_route', 'method not routed'),
      Status.UNIMPLEMENTED,
      'method not routed',
    ],
    [
      new GatewayError(Status.RESOURCE_EXHAUSTED, 'no_free_endpoint', 'all instances are busy'),
      Status.RESOURCE_EXHAUSTED,
      'all instances are busy',
    ],
    [
      new GatewayError(Status.UNAUTHENTICATED, 'missing_sticky_key', 'missing or invalid token'),
      Status.UNAUTHENTICATED,
      'missing or invalid token',
    ],
    [
      new GatewayError(Status.DEADLINE_EXCEEDED, 'deadline_exceeded', 'deadline exceeded'),
      Status.DEADLINE_EXCEEDED,
      'deadline exceeded',
    ],
    [
      new GatewayError(
        Status.UNAVAILABLE,
        'upstream_connect_failed',
        'connect to 127.0.0.1:1 failed: ECONNREFUSED',
      ),
      Status.UNAVAILABLE,
      'backend service unavailable',
    ],
    [backendUnavailable('retries_exhausted'), Status.UNAVAILABLE, 'backend service unavailable'],
    [
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      Status.UNAVAILABLE,
      'backend service unavailable',
    ],
    [new TypeError('a bug'), Status.UNAVAILABLE, 'backend service unavailable'],
    ['a string', Status.UNAVAILABLE, 'backend service unavailable'],
    [undefined, Status.UNAVAILABLE, 'backend service unavailable'],
  ])('maps %s', (error, code, message) => {
    expect(toGrpcStatus(error)).toEqual({ code, message });
  });

  it('classifies only local connect/timeout/reset failures as transport failures', () => {
    expect(backendUnavailable('upstream_connect_failed').isTransportFailure).toBe(true);
    expect(backendUnavailable('upstream_open_timeout').isTransportFailure).toBe(true);
    expect(backendUnavailable('upstream_reset').isTransportFailure).toBe(true);
    expect(backendUnavailable('retries_exhausted').isTransportFailure).toBe(false);
    expect(new GatewayError(Status.CANCELLED, 'upstream_cancelled', 'x').isTransportFailure).toBe(false);
    expect(
      new GatewayError(Status.UNAVAILABLE, 'upstream_reset', 'x', { where: 'upstream' }).isTransportFailure,
    ).toBe(false);
  });
});

describe('statusFromRstCode', () => {
  it.each([
    [constants.NGHTTP2_REFUSED_STREAM, Status.UNAVAILABLE],
    [constants.NGHTTP2_CANCEL, Status.CANCELLED],
    [constants.NGHTTP2_ENHANCE_YOUR_CALM, Status.RESOURCE_EXHAUSTED],
    [constants.NGHTTP2_INADEQUATE_SECURITY, Status.PERMISSION_DENIED],
    [constants.NGHTTP2_INTERNAL_ERROR, Status.INTERNAL],
    [constants.NGHTTP2_PROTOCOL_ERROR, Status.INTERNAL],
  ])('maps RST code %i', (rst, code) => {
    expect(statusFromRstCode(rst)).toBe(code);
  });
});
