import type { HeaderFields, Http2Stream } from '../h2/stream.js';
import { trailersFromTrailersOnly } from './headers.js';
import type { StatusCode } from './status.js';

/**
 * THE responder: the only code that writes response headers, trailers or a status to a downstream
 * stream. Two ways to end a call, as grpc-js' `sendStatus`: trailers-only (one HEADERS frame with
 * END_STREAM) while no response headers have gone out, real trailers afterwards. The HTTP/2 layer
 * sends trailers after every DATA byte already written, so ordering needs nothing here.
 */

/** True once the call's end (trailers-only, trailers, or a reset) is decided on this stream. */
function isResponseEnded(stream: Http2Stream): boolean {
  return stream.closed || stream.localEnded || stream.endQueued;
}

/** Sends response headers (from an upstream, `:status` included). */
export function sendResponseHeaders(stream: Http2Stream, fields: HeaderFields): void {
  if (isResponseEnded(stream) || stream.headersSent) return;
  stream.respond(fields, false);
}

/**
 * Ends the call with the given trailers (an upstream's, passed through unchanged). Data already
 * written goes first. Without response headers sent yet, the trailers become a trailers-only response.
 */
export function endWithTrailers(stream: Http2Stream, trailers: HeaderFields): void {
  if (isResponseEnded(stream)) return;
  if (!stream.headersSent) {
    stream.respond([':status', '200', 'content-type', 'application/grpc', ...trailers], true);
    return;
  }
  stream.sendTrailers(trailers);
}

/** Relays an upstream trailers-only response (HEADERS with END_STREAM) unchanged. */
export function endWithUpstreamTrailersOnly(stream: Http2Stream, fields: HeaderFields): void {
  if (isResponseEnded(stream)) return;
  if (!stream.headersSent) {
    stream.respond(fields, true);
    return;
  }
  stream.sendTrailers(trailersFromTrailersOnly(fields));
}

/** Ends the call with a status the gateway itself produced (the message is percent-encoded). */
export function endWithStatus(stream: Http2Stream, code: StatusCode, message: string): void {
  endWithTrailers(stream, ['grpc-status', String(code), 'grpc-message', encodeGrpcMessage(message)]);
}

/**
 * Answers a request that is not gRPC at all with a plain HTTP error, as the gRPC spec asks
 * (415 for a wrong content-type), so that no HTTP client mistakes it for a success. A HEAD request
 * gets the same status and headers without a body (RFC 9110 9.3.2).
 */
export function endWithHttpError(stream: Http2Stream, httpStatus: number, text: string, head = false): void {
  if (isResponseEnded(stream) || stream.headersSent) return;
  const body = Buffer.from(`${text}\n`, 'utf8');
  const fields = [':status', String(httpStatus), 'content-type', 'text/plain; charset=utf-8'];
  if (httpStatus === 405) fields.push('allow', 'POST');
  fields.push('content-length', String(body.length));
  if (head) {
    stream.respond(fields, true);
    return;
  }
  stream.respond(fields, false);
  stream.write(body);
  stream.end();
}

/**
 * Percent-encodes a grpc-message value (PROTOCOL-HTTP2.md: every byte outside 0x20-0x7E, and `%`,
 * as `%XX` of its UTF-8 encoding). Plain ASCII messages are returned as they are.
 */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    if (byte >= 0x20 && byte <= 0x7e && byte !== 0x25) out += String.fromCharCode(byte);
    else out += `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`;
  }
  return out;
}
