/**
 * The domain error codes of the auth service (REFERENCE.md 3.2). Handlers throw {@link AuthError};
 * `grpc/to-grpc-status.ts` is the one place that turns a code into a gRPC status.
 */
export type AuthErrorCode =
  | 'bad_parameter'
  | 'invalid_user_or_password'
  | 'internal_server_error'
  | 'entity_not_found';

/** A failure with a stable code; the message is what the client sees, so it never carries secrets. */
export class AuthError extends Error {
  override readonly name = 'AuthError';

  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
