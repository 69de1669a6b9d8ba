import type { ClientHttp2Session, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';

/** What came back on one node:http2 client stream, once it closed. */
export interface Http2Exchange {
  /** Response headers (for a trailers-only answer they hold `grpc-status` too); undefined if none came. */
  readonly headers: IncomingHttpHeaders | undefined;
  readonly trailers: IncomingHttpHeaders | undefined;
  readonly body: Buffer;
  /** RST_STREAM code (0 when the stream ended normally). */
  readonly rstCode: number;
  /** The stream's 'error', if it had one (a reset, a refused stream, a lost connection). */
  readonly error: Error | undefined;
}

/**
 * Sends one request on `session` (`headers`, then `body` and END_STREAM; END_STREAM on the headers
 * without a body) and resolves with everything the stream received once it has closed. It never
 * rejects: how the stream ended is in the result, for tests that assert on resets too.
 */
export function http2Exchange(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: Buffer,
): Promise<Http2Exchange> {
  return new Promise((resolve) => {
    const request = session.request(headers, { endStream: body === undefined });
    let responseHeaders: IncomingHttpHeaders | undefined;
    let trailers: IncomingHttpHeaders | undefined;
    let error: Error | undefined;
    const chunks: Buffer[] = [];
    request.on('response', (received) => {
      responseHeaders = received;
    });
    request.on('trailers', (received) => {
      trailers = received;
    });
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('error', (received: Error) => {
      error = received;
    });
    request.on('close', () =>
      resolve({
        headers: responseHeaders,
        trailers,
        body: Buffer.concat(chunks),
        rstCode: request.rstCode ?? 0,
        error,
      }),
    );
    if (body !== undefined) request.end(body);
  });
}
