import type { HeaderFields } from '../h2/stream.js';

/**
 * Header rules of the data path (gRPC PROTOCOL-HTTP2.md) over header lists as the HTTP/2 layer
 * delivers them (`[name, value, ...]`, already validated against RFC 9113 8.2: no connection-specific
 * fields, lowercase names). Lists are forwarded as they are; a copy is made only when something changes.
 */

/** The first value of `name`, or undefined. */
export function fieldValue(fields: HeaderFields, name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/**
 * Request headers for an upstream stream: every field as the client sent it (metadata, `-bin` keys,
 * `session-id`, the pseudo-headers) but those the route strips, already removed by the caller
 * ({@link withoutFields}). `grpcTimeout`, when given, replaces the
 * client's value (a retry or transfer forwards the remaining budget).
 */
export function upstreamRequestFields(incoming: HeaderFields, grpcTimeout: string | undefined): HeaderFields {
  if (grpcTimeout === undefined) return incoming;
  const out: HeaderFields = [];
  for (let i = 0; i < incoming.length; i += 2) {
    if (incoming[i] === 'grpc-timeout') continue;
    out.push(incoming[i] as string, incoming[i + 1] as string);
  }
  out.push('grpc-timeout', grpcTimeout);
  return out;
}

/** `fields` without the fields named in `names`; the same list when none is there. */
export function withoutFields(fields: HeaderFields, names: ReadonlySet<string>): HeaderFields {
  let i = 0;
  while (i < fields.length && !names.has(fields[i] as string)) i += 2;
  if (i >= fields.length) return fields;
  const out = fields.slice(0, i);
  for (; i < fields.length; i += 2) {
    const name = fields[i] as string;
    if (!names.has(name)) out.push(name, fields[i + 1] as string);
  }
  return out;
}

/**
 * Response fields a backend must not set for the client: state that outlives the call or applies
 * to the whole of the gateway's origin rather than to one call of one backend. A backend answers a
 * call; it does not get to plant cookies for the gateway's host (`set-cookie`, also what a gRPC-Web
 * proxy or browser in front would store), point the client's next connections elsewhere
 * (`alt-svc`, RFC 7838), pin a transport policy on the origin (`strict-transport-security`) or
 * wipe the client's storage for it (`clear-site-data`). Connection-specific fields (RFC 9113 8.2.2:
 * `connection`, `keep-alive`, `proxy-connection`, `transfer-encoding`, `upgrade`, `te`) never get
 * this far: the HTTP/2 layer refuses a response carrying them as malformed (PROTOCOL_ERROR), which
 * the call treats as that instance failing.
 */
function isOriginWideField(name: string): boolean {
  switch (name) {
    case 'set-cookie':
    case 'alt-svc':
    case 'strict-transport-security':
    case 'clear-site-data':
      return true;
    default:
      return false;
  }
}

/**
 * Response headers, trailers or a trailers-only answer from a backend as they go to the client:
 * unchanged (the same list, no copy) unless they carry an origin-wide field ({@link isOriginWideField}),
 * which is dropped.
 */
export function responseFieldsForClient(fields: HeaderFields): HeaderFields {
  let i = 0;
  while (i < fields.length && !isOriginWideField(fields[i] as string)) i += 2;
  if (i >= fields.length) return fields;
  const out = fields.slice(0, i);
  for (; i < fields.length; i += 2) {
    const name = fields[i] as string;
    if (!isOriginWideField(name)) out.push(name, fields[i + 1] as string);
  }
  return out;
}

/**
 * Turns an upstream trailers-only response into trailers, for when response headers already went
 * downstream (a transferred call whose new upstream answers with a status only).
 */
export function trailersFromTrailersOnly(upstream: HeaderFields): HeaderFields {
  const out: HeaderFields = [];
  for (let i = 0; i < upstream.length; i += 2) {
    const name = upstream[i] as string;
    if (name.charCodeAt(0) === 58 /* ':' */ || name === 'content-type') continue;
    out.push(name, upstream[i + 1] as string);
  }
  return out;
}

/** Milliseconds per grpc-timeout unit (PROTOCOL-HTTP2.md: `TimeoutValue TimeoutUnit`). */
function unitMs(unit: number): number {
  switch (unit) {
    case 72 /* H */:
      return 3_600_000;
    case 77 /* M */:
      return 60_000;
    case 83 /* S */:
      return 1000;
    case 109 /* m */:
      return 1;
    case 117 /* u */:
      return 0.001;
    case 110 /* n */:
      return 0.000_001;
    default:
      return 0;
  }
}

/**
 * Parses a `grpc-timeout` value (1 to 8 ASCII digits then one of `HMSmun`) into milliseconds.
 * Returns undefined when the value is malformed.
 */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const digits = value.length - 1;
  if (digits < 1 || digits > 8) return undefined;
  const perUnit = unitMs(value.charCodeAt(digits));
  if (perUnit === 0) return undefined;
  let amount = 0;
  for (let i = 0; i < digits; i++) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    amount = amount * 10 + c;
  }
  return amount * perUnit;
}

/** Formats a remaining budget in milliseconds as a `grpc-timeout` value (at least 1 ms, rounded up). */
export function formatGrpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  if (whole < 100_000_000) return `${whole}m`;
  const seconds = Math.ceil(whole / 1000);
  if (seconds < 100_000_000) return `${seconds}S`;
  return `${Math.min(99_999_999, Math.ceil(seconds / 3600))}H`;
}

/** True for `application/grpc` and its `+proto`/`+json`/`;params` variants. */
export function isGrpcContentType(value: string | undefined): boolean {
  return value?.startsWith('application/grpc') === true && isGrpcSuffix(value.charCodeAt(16));
}

function isGrpcSuffix(c: number): boolean {
  // End of string (NaN), '+', ';' or ' ' may follow `application/grpc`; anything else is another type.
  return Number.isNaN(c) || c === 43 || c === 59 || c === 32;
}

/**
 * Largest request header list the gateway accepts: announced as SETTINGS_MAX_HEADER_LIST_SIZE and
 * enforced by the HTTP/2 layer, which measures it as RFC 9113 6.5.2 counts it (name and value octets
 * plus 32 per field). Anything accepted is also forwardable upstream.
 */
export const MAX_REQUEST_HEADER_BYTES = 64 * 1024;
