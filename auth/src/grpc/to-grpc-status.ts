import { status } from '@grpc/grpc-js';
import { AuthError, type AuthErrorCode } from '../auth-error.js';

export interface GrpcStatus {
  readonly code: status;
  readonly details: string;
}

const CODE_TO_STATUS: Readonly<Record<AuthErrorCode, status>> = {
  bad_parameter: status.INVALID_ARGUMENT,
  invalid_user_or_password: status.PERMISSION_DENIED,
  internal_server_error: status.INTERNAL,
  entity_not_found: status.NOT_FOUND,
};

/**
 * The one mapping from anything thrown by a handler to what the client sees (REFERENCE.md 3.2): an
 * {@link AuthError} keeps its message under its code's status; anything else is a bug and becomes
 * UNKNOWN `internal error`, its details left to the log.
 */
export function toGrpcStatus(error: unknown): GrpcStatus {
  if (error instanceof AuthError) return { code: CODE_TO_STATUS[error.code], details: error.message };
  return { code: status.UNKNOWN, details: 'internal error' };
}
