import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';

/**
 * Header rules of the data path (gRPC PROTOCOL-HTTP2.md). The gateway forwards header objects as
 * node:http2 delivers them: node copies them again when it serialises a HEADERS frame, so a second
 * copy here would only add cost. A copy is made only when something must change.
 */

/**
 * Connection-specific headers (RFC 9113 8.2.2). nghttp2 already rejects them in HTTP/2 messages, so
 * they never appear on this h2-to-h2 path; the check stays so that a future transport cannot leak them.
 */
function isHopByHop(name: string): boolean {
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'transfer-encoding':
    case 'upgrade':
    case 'http2-settings':
      return true;
    default:
      return false;
  }
}

function hasHopByHop(headers: IncomingHttpHeaders): boolean {
  return (
    headers.connection !== undefined ||
    headers['keep-alive'] !== undefined ||
    headers['proxy-connection'] !== undefined ||
    headers['transfer-encoding'] !== undefined ||
    headers.upgrade !== undefined ||
    headers['http2-settings'] !== undefined
  );
}

function copyWithout(
  headers: IncomingHttpHeaders,
  dropPseudo: boolean,
  extraDrop: string | undefined,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (dropPseudo && name.charCodeAt(0) === 58 /* ':' */) continue;
    if (name === extraDrop || isHopByHop(name)) continue;
    out[name] = headers[name];
  }
  return out;
}

/**
 * Request headers for an upstream stream: every metadata entry (including `-bin` keys, `authorization`
 * and `session-id`) and the client's pseudo-headers, which node:http2 re-validates. `grpcTimeout`,
 * when given, replaces the client's value (a retry or transfer forwards the remaining budget).
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  grpcTimeout: string | undefined,
): OutgoingHttpHeaders {
  if (grpcTimeout === undefined && !hasHopByHop(incoming)) return incoming;
  const out = copyWithout(incoming, false, undefined);
  if (grpcTimeout !== undefined) out['grpc-timeout'] = grpcTimeout;
  return out;
}

/** Response headers (with `:status`) from an upstream, ready for `respond()` downstream. */
export function downstreamResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  return hasHopByHop(upstream) ? copyWithout(upstream, false, undefined) : upstream;
}

/** Upstream trailers, ready for `sendTrailers()` downstream (no pseudo-headers allowed there). */
export function downstreamTrailers(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  return hasHopByHop(upstream) ? copyWithout(upstream, true, undefined) : upstream;
}

/**
 * Turns an upstream trailers-only response into trailers, for when response headers already went
 * downstream (a transferred call whose new upstream answers with a status only).
 */
export function trailersFromTrailersOnly(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  return copyWithout(upstream, true, 'content-type');
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
 * enforced per call (node announces the setting but does not enforce it). Anything accepted must also
 * be forwardable: node refuses to send a header block over 64 KiB upstream, and a block is never
 * larger than the list size measured below.
 */
export const MAX_REQUEST_HEADER_BYTES = 64 * 1024;

/** The header list size as RFC 9113 6.5.2 counts it: name and value octets plus 32 per field. */
export function headerListSize(headers: IncomingHttpHeaders): number {
  let size = 0;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const item of value) size += name.length + item.length + 32;
    } else {
      size += name.length + String(value).length + 32;
    }
  }
  return size;
}
