import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  fastify,
  type HTTPMethods,
  LogController,
  type RawServerDefault,
} from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { authorize, TokenSet } from './bearer-auth.js';
import { createErrorHandler, notFoundHandler, toHttpError } from './error-handler.js';
import { HttpError } from './http-error.js';
import { InstanceStore } from './instance-store.js';
import {
  ID_FORMATS,
  MAX_INSTANCE_ID_LENGTH,
  normalizeRegisterBody,
  type RegisterBody,
  registerBodySchema,
  toValidationError,
  unregisterParamsSchema,
} from './register-body.js';

/** Registrations are a few hundred bytes; anything near this limit is not a registration. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** `discoverer/openapi.yaml`, the same relative path from `src/` (tests) and `dist/` (production). */
const OPENAPI_URL = new URL('../openapi.yaml', import.meta.url);

const errorEnvelopeSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

const instancesResponseSchema = {
  type: 'object',
  required: ['instances'],
  properties: {
    instances: {
      type: 'array',
      items: {
        type: 'object',
        required: ['instance_id', 'ipv4', 'port'],
        properties: { instance_id: { type: 'string' }, ipv4: { type: 'string' }, port: { type: 'integer' } },
      },
    },
  },
} as const;

const healthResponseSchema = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' } },
} as const;

const ALL_METHODS: readonly HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** The app as built by `buildApp`: Fastify on node:http with a pino logger. */
export type DiscovererApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>;

export interface AppDeps {
  /** A client from `createRedisClient`, already connected; the caller owns (and closes) it. */
  redis: Redis;
  logger: Logger;
  /** Bearer tokens (`DISCOVERER_TOKEN`, `DISCOVERER_READ_TOKEN`); none: the API is open, as in the reference. */
  tokens?: { readonly write: readonly string[]; readonly read: readonly string[] };
}

/** Runs a Redis operation; a failure becomes a 500 with the reference's message for that operation. */
async function redisOp<T>(message: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw HttpError.internal(message, error);
  }
}

/**
 * Builds the discoverer's HTTP API (REFERENCE.md 4) without listening, so tests can `inject`.
 * Routes: POST /v1/register, POST /v1/unregister/:instance_id, GET /v1/instances, GET /healthz,
 * GET /openapi.yaml. Every error answers with the `{"error":{"code","message"}}` envelope.
 */
export function buildApp({ redis, logger, tokens }: AppDeps): DiscovererApp {
  const openapi = readFileSync(OPENAPI_URL, 'utf8');
  const store = new InstanceStore(redis, logger);
  const writers = new TokenSet(tokens?.write ?? []);
  const readers = new TokenSet(tokens?.read ?? []);
  /** The digest of the token each accepted registration carried, for the ownership check. */
  const registeredBy = new WeakMap<FastifyRequest, Buffer>();
  /**
   * Checked on request, before the body is read or validated: a caller without the token learns
   * nothing about the body's rules and changes nothing.
   */
  const requireToken =
    (granting: readonly TokenSet[]) => async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        const digest = authorize(request.headers.authorization, granting);
        if (digest !== undefined) registeredBy.set(request, digest);
      } catch (error) {
        reply.header('www-authenticate', 'Bearer realm="discoverer"');
        throw error;
      }
    };
  const requireWriteToken = requireToken([writers]);
  // A write token also lists (the gateway both lists and unregisters with one token).
  const requireReadToken = readers.open ? undefined : requireToken([readers, writers]);

  const app = fastify({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: {
      // A 253-code-point id is at most 253 * 12 characters percent-encoded; longer params would
      // otherwise fall through to 404.
      maxParamLength: MAX_INSTANCE_ID_LENGTH * 12,
      onMaxParamLength: (_path, _request, response) => {
        const error = HttpError.badParameter(
          `instance_id must be at most ${MAX_INSTANCE_ID_LENGTH} characters`,
        );
        response.writeHead(error.statusCode, { 'content-type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify(error.toEnvelope()));
      },
    },
    // Malformed percent-encoding in the URL is reported before routing, outside the error handler.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      const httpError = toHttpError(error, BODY_LIMIT_BYTES);
      reply.code(httpError.statusCode).send(httpError.toEnvelope());
    },
    // One access line per request (the onResponse hook below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // allErrors lets the error formatter pick the reference's first failing check regardless of
    // Ajv's keyword order (bodies are small and flat, so the cost is bounded). No coercion: a
    // string "5000" is a decoding failure in the reference, not a port.
    ajv: { customOptions: { allErrors: true, coerceTypes: false, formats: ID_FORMATS } },
  });

  app.setErrorHandler(createErrorHandler(BODY_LIMIT_BYTES));
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime },
      'request completed',
    );
  });

  // JSON is the only body format. An empty JSON body means "no body" (the reference lets it through
  // to the required-field checks) instead of Fastify's empty-body error.
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if ((body as string).trim() === '') done(null, undefined);
    else parseJson(request, body as string, done);
  });

  app.post<{ Body: RegisterBody }>(
    '/v1/register',
    {
      onRequest: requireWriteToken,
      schema: { body: registerBodySchema },
      schemaErrorFormatter: toValidationError,
      preValidation: async (request) => {
        request.body = normalizeRegisterBody(request.body) as RegisterBody;
      },
    },
    async (request, reply) => {
      const written = await redisOp('Redis write key error', () =>
        store.register(request.body, registeredBy.get(request)),
      );
      if (!written) {
        throw new HttpError(
          'instance_id_conflict',
          `instance_id ${JSON.stringify(request.body.instance_id)} is registered at another address with another token`,
        );
      }
      return reply.code(200).send();
    },
  );

  app.get(
    '/v1/instances',
    {
      ...(requireReadToken === undefined ? {} : { onRequest: requireReadToken }),
      schema: { response: { 200: instancesResponseSchema, '5xx': errorEnvelopeSchema } },
    },
    async () => ({ instances: await redisOp('Redis get keys error', () => store.list()) }),
  );

  app.get(
    '/healthz',
    { schema: { response: { 200: healthResponseSchema, '5xx': errorEnvelopeSchema } } },
    async () => {
      await redisOp('Redis ping error', () => store.ping());
      return { status: 'ok' };
    },
  );

  app.get('/openapi.yaml', async (_request, reply) =>
    reply.type('application/yaml; charset=utf-8').send(openapi),
  );

  // Routes that take no body discard whatever is sent (within the body limit) instead of failing
  // on its content type.
  app.register(async (bodyless) => {
    bodyless.removeAllContentTypeParsers();
    bodyless.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) =>
      done(null, undefined),
    );

    bodyless.post<{ Params: { instance_id: string } }>(
      '/v1/unregister/:instance_id',
      {
        onRequest: requireWriteToken,
        schema: { params: unregisterParamsSchema },
        schemaErrorFormatter: toValidationError,
      },
      async (request, reply) => {
        await redisOp('Redis delete key error', () => store.unregister(request.params.instance_id));
        return reply.code(200).send();
      },
    );

    // Fastify answers a known path with an unknown method as 404; the reference (and HTTP) say 405.
    const allowed: ReadonlyArray<readonly [string, HTTPMethods]> = [
      ['/v1/register', 'POST'],
      ['/v1/unregister/:instance_id', 'POST'],
      ['/v1/instances', 'GET'],
      ['/healthz', 'GET'],
      ['/openapi.yaml', 'GET'],
    ];
    for (const [url, method] of allowed) {
      const allow = method === 'GET' ? 'GET, HEAD' : method;
      bodyless.route({
        url,
        method: ALL_METHODS.filter((m) => !allow.includes(m)),
        exposeHeadRoute: false,
        handler: async (_request, reply) => {
          reply.header('allow', allow);
          throw new HttpError('method_not_allowed', 'Method Not Allowed');
        },
      });
    }
  });

  return app;
}
