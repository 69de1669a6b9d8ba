/**
 * Error codes of the discoverer's error envelope (REFERENCE.md 4.2). The code decides the HTTP
 * status; `payload_too_large` and `method_not_allowed` are additions of the rewrite for statuses the
 * reference reported as `internal_server_error`; `unauthorized` and `instance_id_conflict` come with
 * the registry's tokens (README "Security").
 */
export type ErrorCode =
  | 'bad_parameter'
  | 'unauthorized'
  | 'entity_not_found'
  | 'method_not_allowed'
  | 'instance_id_conflict'
  | 'payload_too_large'
  | 'internal_server_error';

const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  bad_parameter: 400,
  unauthorized: 401,
  entity_not_found: 404,
  method_not_allowed: 405,
  instance_id_conflict: 409,
  payload_too_large: 413,
  internal_server_error: 500,
};

/** The JSON body of every error response: `{"error":{"code","message"}}`. */
export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string };
}

/**
 * An error that the app's error handler renders as the envelope with the status of its code.
 * Route handlers throw it; anything else that reaches the handler becomes a generic 500.
 */
export class HttpError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpError';
    this.statusCode = STATUS_BY_CODE[code];
  }

  toEnvelope(): ErrorEnvelope {
    return { error: { code: this.code, message: this.message } };
  }

  static badParameter(message: string): HttpError {
    return new HttpError('bad_parameter', message);
  }

  static unauthorized(message: string): HttpError {
    return new HttpError('unauthorized', message);
  }

  static internal(message: string, cause?: unknown): HttpError {
    return new HttpError('internal_server_error', message, { cause });
  }
}
