import type { FastifySchemaValidationError } from 'fastify';
import { HttpError } from './http-error.js';

/** Upper bound for `instance_id`: it becomes a Redis key suffix and a URL path segment. */
export const MAX_INSTANCE_ID_LENGTH = 253;
const MAX_SERVICE_TYPE_LENGTH = 253;
/** 24 h: a registration that outlives a day without a heartbeat is a bug, not a lease. */
const MAX_TTL_MS = 86_400_000;

/** The body of `POST /v1/register` (REFERENCE.md 4.3) after validation. */
export interface RegisterBody {
  instance_id: string;
  service_type: string;
  ipv4: string;
  port: number;
  ttl_ms: number;
  /** RFC 3339; optional, as in the reference. */
  timestamp?: string;
}

/** C0 controls, DEL, C1 controls and `/` are refused; everything else is stored literally. */
const INSTANCE_ID_PATTERN = '^[^\\u0000-\\u001F\\u007F-\\u009F/]*$';

/**
 * Ajv formats the app registers. `well-formed-unicode` refuses lone surrogates (`"\ud800"` is valid
 * JSON): `encodeURIComponent` throws on them, so the gateway could never unregister such an id.
 */
export const ID_FORMATS = {
  'well-formed-unicode': (value: string) => !/\p{Cs}/u.test(value),
} as const;

const instanceIdSchema = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_INSTANCE_ID_LENGTH,
  pattern: INSTANCE_ID_PATTERN,
  format: 'well-formed-unicode',
} as const;

/**
 * At registration the dot segments are refused too: WHATWG URL parsing (fetch, the gateway) resolves
 * `/v1/unregister/..` even when percent-encoded, so such an entry could only expire. Unregistering
 * them stays possible for a client that sends the raw path.
 */
const registeredInstanceIdSchema = { ...instanceIdSchema, not: { enum: ['.', '..'] } } as const;

/**
 * Body schema. Every keyword maps to exactly one message in `toValidationError`:
 * `type`/`format(timestamp)` are decoding failures, `required`/`minLength`/`not const 0`/`minimum(ttl_ms)`
 * are the reference's "is required" cases, the rest are the rewrite's stricter checks.
 * Unknown properties are allowed (and ignored), as in the reference.
 */
export const registerBodySchema = {
  type: 'object',
  required: ['instance_id', 'service_type', 'ipv4', 'port', 'ttl_ms'],
  properties: {
    instance_id: registeredInstanceIdSchema,
    service_type: { type: 'string', minLength: 1, maxLength: MAX_SERVICE_TYPE_LENGTH },
    ipv4: { type: 'string', minLength: 1, format: 'ipv4' },
    // Port 0 is what Go's decoder leaves for a missing field, so the reference reports it as
    // missing; other out-of-range values get the stricter message.
    port: { type: 'integer', not: { const: 0 }, minimum: 1, maximum: 65535 },
    ttl_ms: { type: 'integer', minimum: 1, maximum: MAX_TTL_MS },
    timestamp: { type: 'string', format: 'date-time' },
  },
} as const;

export const unregisterParamsSchema = {
  type: 'object',
  required: ['instance_id'],
  properties: { instance_id: instanceIdSchema },
} as const;

/** Fields in the order the reference checks them (REFERENCE.md 4.3 steps 2-6). */
const FIELD_ORDER = ['instance_id', 'service_type', 'ipv4', 'port', 'ttl_ms'] as const;
type Field = (typeof FIELD_ORDER)[number];

const INVALID_BODY = 'invalid request body';

const STRICT_MESSAGES: Readonly<Record<Field, Readonly<Record<string, string>>>> = {
  instance_id: {
    maxLength: `instance_id must be at most ${MAX_INSTANCE_ID_LENGTH} characters`,
    pattern: "instance_id must not contain '/' or control characters",
    format: 'instance_id must be well-formed Unicode',
    not: 'instance_id must not be "." or ".."',
  },
  service_type: { maxLength: `service_type must be at most ${MAX_SERVICE_TYPE_LENGTH} characters` },
  ipv4: { format: 'ipv4 must be an IPv4 address' },
  port: {
    minimum: 'port must be an integer between 1 and 65535',
    maximum: 'port must be an integer between 1 and 65535',
  },
  ttl_ms: { maximum: `ttl_ms must be at most ${MAX_TTL_MS}` },
};

const MISSING_KEYWORDS: Readonly<Record<Field, ReadonlySet<string>>> = {
  instance_id: new Set(['required', 'minLength']),
  service_type: new Set(['required', 'minLength']),
  ipv4: new Set(['required', 'minLength']),
  port: new Set(['required', 'not']),
  ttl_ms: new Set(['required', 'minimum']),
};

interface Ranked {
  rank: number;
  message: string;
}

function fieldOf(error: FastifySchemaValidationError): string {
  if (error.keyword === 'required') return String(error.params.missingProperty);
  // Only top-level properties exist in these schemas, so the pointer is `/<name>` or empty.
  return error.instancePath.slice(1);
}

function rank(error: FastifySchemaValidationError): Ranked {
  const field = fieldOf(error);
  const index = FIELD_ORDER.indexOf(field as Field);
  if (error.keyword === 'type' || index < 0) return { rank: 0, message: INVALID_BODY };
  const name = field as Field;
  if (MISSING_KEYWORDS[name].has(error.keyword)) return { rank: 1 + index, message: `${name} is required` };
  const strict = STRICT_MESSAGES[name][error.keyword];
  if (strict !== undefined) return { rank: 1 + FIELD_ORDER.length + index, message: strict };
  return { rank: 0, message: INVALID_BODY };
}

/**
 * Turns Ajv's errors (collected with `allErrors`) into the one message the reference would give:
 * decoding failures first, then the required fields in the reference's order, and only then the
 * rewrite's stricter checks, so any request the reference rejects gets the reference's message.
 */
export function toValidationError(errors: readonly FastifySchemaValidationError[]): HttpError {
  let best: Ranked = { rank: Number.POSITIVE_INFINITY, message: INVALID_BODY };
  for (const error of errors) {
    const ranked = rank(error);
    if (ranked.rank < best.rank) best = ranked;
  }
  return HttpError.badParameter(best.message);
}

/**
 * The reference decodes with Go's encoding/json: an absent body and JSON `null` (for the body or a
 * property) leave the zero value, so they reach the "is required" checks instead of failing decoding.
 */
export function normalizeRegisterBody(body: unknown): unknown {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null));
}
