import type {
  IncomingHttpHeaders,
  OutgoingHttpHeaders,
  ServerHttp2Stream,
  ServerStreamResponseOptions,
} from 'node:http2';
import { trailersFromTrailersOnly } from './headers.js';
import type { StatusCode } from './status.js';

/**
 * THE responder: the only code that writes response headers, trailers or a status to a downstream
 * stream. Two ways to end a call, as grpc-js' `sendStatus`: trailers-only (one HEADERS frame with
 * END_STREAM) while no response headers have gone out, real trailers afterwards. Trailers are sent
 * from the `wantTrailers` event, so they always follow the last DATA frame already queued.
 */

const kTrailers = Symbol('stickygw.pendingTrailers');

type ResponseStream = ServerHttp2Stream & { [kTrailers]?: OutgoingHttpHeaders };

const RESPOND_HEADERS = { waitForTrailers: true, sendDate: false } as const;
const RESPOND_TRAILERS_ONLY = { endStream: true, sendDate: false } as const;
// `sendDate` (node >= 8.4, missing from @types/node): the gateway adds no `date` header of its own.
const RESPOND_PLAIN = { sendDate: false } as ServerStreamResponseOptions;

// One listener shared by every stream (no closure per call): the trailers to send are parked on the stream.
function onWantTrailers(this: ResponseStream): void {
  const trailers = this[kTrailers];
  if (trailers !== undefined && !this.destroyed) this.sendTrailers(trailers);
}

function isOpen(stream: ServerHttp2Stream): boolean {
  return !stream.destroyed && !stream.closed;
}

/** True once the call's end (trailers-only, trailers, or a reset) is decided on this stream. */
export function isResponseEnded(stream: ServerHttp2Stream): boolean {
  return !isOpen(stream) || (stream as ResponseStream)[kTrailers] !== undefined || stream.writableEnded;
}

/** Sends response headers (from an upstream, `:status` included) and arms the trailers. */
export function sendResponseHeaders(stream: ServerHttp2Stream, headers: OutgoingHttpHeaders): void {
  if (!isOpen(stream) || stream.headersSent) return;
  stream.on('wantTrailers', onWantTrailers);
  stream.respond(headers, RESPOND_HEADERS);
}

/**
 * Ends the call with the given trailers (an upstream's, passed through unchanged). Data already
 * written goes first. Without response headers sent yet, the trailers become a trailers-only response.
 */
export function endWithTrailers(stream: ServerHttp2Stream, trailers: OutgoingHttpHeaders): void {
  if (isResponseEnded(stream)) return;
  if (!stream.headersSent) {
    stream.respond(
      { ...trailers, ':status': 200, 'content-type': 'application/grpc' },
      RESPOND_TRAILERS_ONLY,
    );
    return;
  }
  (stream as ResponseStream)[kTrailers] = trailers;
  stream.end();
}

/** Relays an upstream trailers-only response (HEADERS with END_STREAM) unchanged. */
export function endWithUpstreamTrailersOnly(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  if (isResponseEnded(stream)) return;
  if (!stream.headersSent) {
    stream.respond(headers, RESPOND_TRAILERS_ONLY);
    return;
  }
  endWithTrailers(stream, trailersFromTrailersOnly(headers));
}

/** Ends the call with a status the gateway itself produced (the message is percent-encoded). */
export function endWithStatus(stream: ServerHttp2Stream, code: StatusCode, message: string): void {
  if (isResponseEnded(stream)) return;
  const trailers: OutgoingHttpHeaders = {
    'grpc-status': String(code),
    'grpc-message': encodeGrpcMessage(message),
  };
  endWithTrailers(stream, trailers);
}

/**
 * Answers a request that is not gRPC at all with a plain HTTP error, as the gRPC spec asks
 * (415 for a wrong content-type), so that no HTTP client mistakes it for a success.
 */
export function endWithHttpError(stream: ServerHttp2Stream, httpStatus: number, text: string): void {
  if (isResponseEnded(stream) || stream.headersSent) return;
  stream.respond({ ':status': httpStatus, 'content-type': 'text/plain; charset=utf-8' }, RESPOND_PLAIN);
  stream.end(`${text}\n`);
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
