import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-error.js';

const INTERNAL_MESSAGE = 'an internal server error has occurred';

/**
 * Turns anything thrown while serving a request into the error envelope (REFERENCE.md 4.2):
 * our HttpErrors as they are, Fastify's body-parsing errors as `invalid request body` (or 413),
 * other framework 400s as `bad_parameter`, and everything else as a logged, generic 500.
 */
export function toHttpError(error: FastifyError | Error, bodyLimit: number): HttpError {
  if (error instanceof HttpError) return error;
  const { code, statusCode } = error as Partial<FastifyError>;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new HttpError('payload_too_large', `request body must be at most ${bodyLimit} bytes`);
  }
  // Unsupported media type, malformed JSON, prototype poisoning, length mismatch: the reference
  // answers all of these with its decoding failure.
  if (code?.startsWith('FST_ERR_CTP_')) return HttpError.badParameter('invalid request body');
  if (statusCode === 400) return HttpError.badParameter(error.message);
  return HttpError.internal(INTERNAL_MESSAGE, error);
}

export function createErrorHandler(bodyLimit: number) {
  return function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
    const httpError = toHttpError(error, bodyLimit);
    if (httpError.statusCode >= 500) {
      // Our own 5xx are Redis outages, an expected condition (warn, one line); anything unclassified
      // is a bug and gets its stack.
      if (httpError === error) {
        const cause = httpError.cause instanceof Error ? httpError.cause.message : String(httpError.cause);
        request.log.warn({ cause }, httpError.message);
      } else {
        request.log.error({ err: error }, httpError.message);
      }
    }
    return reply.code(httpError.statusCode).send(httpError.toEnvelope());
  };
}

/** Unknown paths: the framework's 404, with the `entity_not_found` code instead of the reference's 500 code. */
export function notFoundHandler(_request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send(new HttpError('entity_not_found', 'Not Found').toEnvelope());
}
