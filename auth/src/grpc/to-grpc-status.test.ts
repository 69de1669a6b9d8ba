import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { AuthError } from '../auth-error.js';
import { toGrpcStatus } from './to-grpc-status.js';

describe('toGrpcStatus', () => {
  it.each([
    ['bad_parameter', status.INVALID_ARGUMENT],
    ['invalid_user_or_password', status.PERMISSION_DENIED],
    ['internal_server_error', status.INTERNAL],
    ['entity_not_found', status.NOT_FOUND],
  ] as const)('maps %s to status %d with the domain message', (code, expected) => {
    expect(toGrpcStatus(new AuthError(code, 'some message'))).toEqual({
      code: expected,
      details: 'some message',
    });
  });

  it('maps anything else to UNKNOWN "internal error" without leaking its message', () => {
    expect(toGrpcStatus(new Error('secret detail'))).toEqual({
      code: status.UNKNOWN,
      details: 'internal error',
    });
    expect(toGrpcStatus('a string')).toEqual({ code: status.UNKNOWN, details: 'internal error' });
  });
});
