import type { HeaderFields } from './stream.js';

/**
 * HTTP semantics of header lists (RFC 9113 8.1-8.3): a request or response that breaks these is
 * malformed, a stream error PROTOCOL_ERROR. Each check returns the reason, or undefined when valid.
 */

/** RFC 9110 5.6.2 token characters, lowercase only (RFC 9113 8.2.1: names are lowercase). */
const NAME_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") NAME_CHAR[c.charCodeAt(0)] = 1;

function badName(name: string, from: number): boolean {
  if (name.length <= from) return true;
  for (let i = from; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) return true;
  }
  return false;
}

/**
 * NUL, CR and LF are refused anywhere in a value (RFC 9113 8.2.1): they would split or smuggle
 * fields at any HTTP/1 hop behind. Leading or trailing whitespace is let through, as nghttp2 does:
 * RFC 9113 makes this check a SHOULD, and a value such as an all-blank token is the application's
 * to refuse (with its own status) rather than a reason to reset the stream.
 */
function badValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return true;
  }
  return false;
}

/** Connection-specific fields (RFC 9113 8.2.2), and `te` with anything but `trailers`. */
function connectionSpecific(name: string, value: string): boolean {
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'proxy-connection':
    case 'transfer-encoding':
    case 'upgrade':
      return true;
    case 'te':
      return value !== 'trailers';
    default:
      return false;
  }
}

/** Parses a content-length value; -2 when it is not a plain decimal number. */
export function parseContentLength(value: string): number {
  if (value.length === 0 || value.length > 15) return -2;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -2;
    n = n * 10 + d;
  }
  return n;
}

/** The result of checking a header list: the declared content-length (-1 when absent) or a reason. */
export interface CheckedFields {
  contentLength: number;
  reason: string | undefined;
  /** Responses: the :status value. */
  status: number;
}

/**
 * Names and values already found valid. Header lists repeat (the same metadata on every call, often
 * the very string objects HPACK keeps in its table), so most checks become one set lookup. Bounded:
 * a peer that sends ever new values only costs the scan it would have cost anyway.
 */
const validNames = new Set<string>();
const validValues = new Set<string>();
const MAX_REMEMBERED = 4096;
const MAX_REMEMBERED_VALUE_LENGTH = 1024;

function rememberValue(value: string): void {
  if (value.length > MAX_REMEMBERED_VALUE_LENGTH) return;
  if (validValues.size >= MAX_REMEMBERED) validValues.clear();
  validValues.add(value);
}

function regularField(name: string, value: string, out: CheckedFields): boolean {
  if (!validNames.has(name)) {
    if (badName(name, 0)) {
      out.reason = `invalid header name ${JSON.stringify(name)}`;
      return false;
    }
    if (validNames.size >= MAX_REMEMBERED) validNames.clear();
    validNames.add(name);
  }
  if (!validValues.has(value)) {
    if (badValue(value)) {
      out.reason = `invalid value of header ${name}`;
      return false;
    }
    rememberValue(value);
  }
  if (connectionSpecific(name, value)) {
    out.reason = `connection-specific header ${name}`;
    return false;
  }
  if (name === 'content-length') {
    const length = parseContentLength(value);
    if (length < 0 || (out.contentLength >= 0 && out.contentLength !== length)) {
      out.reason = 'invalid content-length';
      return false;
    }
    out.contentLength = length;
  }
  return true;
}

const REQUEST_PSEUDO_METHOD = 1;
const REQUEST_PSEUDO_SCHEME = 2;
const REQUEST_PSEUDO_PATH = 4;
const REQUEST_PSEUDO_AUTHORITY = 8;

/** A request header list (RFC 9113 8.3.1): pseudo-headers first, each once, the required ones present. */
export function checkRequest(fields: HeaderFields, out: CheckedFields): void {
  out.contentLength = -1;
  out.reason = undefined;
  out.status = 0;
  let seen = 0;
  let regular = false;
  let method = '';
  let path: string | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    const value = fields[i + 1] as string;
    if (name.charCodeAt(0) === 58 /* : */) {
      if (regular) {
        out.reason = `pseudo-header ${name} after regular headers`;
        return;
      }
      let bit: number;
      switch (name) {
        case ':method':
          bit = REQUEST_PSEUDO_METHOD;
          method = value;
          break;
        case ':scheme':
          bit = REQUEST_PSEUDO_SCHEME;
          break;
        case ':path':
          bit = REQUEST_PSEUDO_PATH;
          path = value;
          break;
        case ':authority':
          bit = REQUEST_PSEUDO_AUTHORITY;
          break;
        default:
          out.reason = `unknown pseudo-header ${JSON.stringify(name)}`;
          return;
      }
      if ((seen & bit) !== 0) {
        out.reason = `repeated pseudo-header ${name}`;
        return;
      }
      if (!validValues.has(value)) {
        if (badValue(value)) {
          out.reason = `invalid value of ${name}`;
          return;
        }
        rememberValue(value);
      }
      seen |= bit;
      continue;
    }
    regular = true;
    if (!regularField(name, value, out)) return;
  }
  if ((seen & REQUEST_PSEUDO_METHOD) === 0 || method === '') {
    out.reason = 'missing :method';
    return;
  }
  if (method === 'CONNECT') {
    if ((seen & (REQUEST_PSEUDO_SCHEME | REQUEST_PSEUDO_PATH)) !== 0)
      out.reason = 'CONNECT with :scheme or :path';
    else if ((seen & REQUEST_PSEUDO_AUTHORITY) === 0) out.reason = 'CONNECT without :authority';
    return;
  }
  if ((seen & REQUEST_PSEUDO_SCHEME) === 0) out.reason = 'missing :scheme';
  else if (path === undefined || path === '') out.reason = 'missing or empty :path';
}

/** A response header list: `:status` once, first, three digits; no other pseudo-header. */
export function checkResponse(fields: HeaderFields, out: CheckedFields): void {
  out.contentLength = -1;
  out.reason = undefined;
  out.status = 0;
  let regular = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    const value = fields[i + 1] as string;
    if (name.charCodeAt(0) === 58) {
      if (name !== ':status' || regular || out.status !== 0) {
        out.reason = `unexpected pseudo-header ${JSON.stringify(name)}`;
        return;
      }
      const status = value.length === 3 ? parseContentLength(value) : -2;
      if (status < 100) {
        out.reason = 'invalid :status';
        return;
      }
      out.status = status;
      continue;
    }
    regular = true;
    if (!regularField(name, value, out)) return;
  }
  if (out.status === 0) out.reason = 'missing :status';
}

/** A trailer list: regular fields only. */
export function checkTrailers(fields: HeaderFields, out: CheckedFields): void {
  out.contentLength = -1;
  out.reason = undefined;
  out.status = 0;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    if (name.charCodeAt(0) === 58) {
      out.reason = `pseudo-header ${name} in trailers`;
      return;
    }
    if (!regularField(name, fields[i + 1] as string, out)) return;
  }
}
