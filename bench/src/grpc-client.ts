import http2 from 'node:http2';

/** What one call looked like from the client side. Exactly one of the outcome fields explains its end. */
export interface CallResult {
  /** `:status` of the response headers, when any arrived. */
  readonly httpStatus: number | undefined;
  /** From the trailers, or from trailers-only response headers. */
  readonly grpcStatus: number | undefined;
  readonly grpcMessage: string | undefined;
  /** RST_STREAM code seen by the client, when the stream was reset without a gRPC status. */
  readonly rstCode: number | undefined;
  /** A session or stream error code (ECONNREFUSED, ERR_HTTP2_STREAM_ERROR, ...). */
  readonly error: string | undefined;
  readonly timedOut: boolean;
  /** Response headers other than pseudo-headers (e.g. `echo-instance`). */
  readonly headers: http2.IncomingHttpHeaders | undefined;
  readonly bodyBytes: number;
  /** The response body, only with `keepBody`. */
  readonly body: Buffer | undefined;
  /** From the request being issued to the stream's close, in milliseconds. */
  readonly elapsedMs: number;
}

export interface CallOptions {
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The whole request body (gRPC frames); the client half-closes after it. */
  readonly body: Buffer;
  readonly timeoutMs: number;
  /** Keep the response body (default false: only its length matters under load). */
  readonly keepBody?: boolean;
}

/** A one-line description of how a call ended, for tallies: `grpc-status 0`, `HTTP 502`, ... */
export function describeOutcome(result: CallResult): string {
  if (result.timedOut) return 'no answer before the client deadline';
  if (result.grpcStatus !== undefined) return `grpc-status ${result.grpcStatus}`;
  if (result.httpStatus !== undefined && result.httpStatus !== 200)
    return `HTTP ${result.httpStatus} (no grpc-status)`;
  if (result.rstCode !== undefined && result.rstCode !== 0) return `RST_STREAM code ${result.rstCode}`;
  if (result.error !== undefined) return `error ${result.error}`;
  return 'ended without grpc-status';
}

/** Connects an h2c client session to 127.0.0.1:port and waits until it is usable. */
export function connectH2(port: number, timeoutMs = 5_000): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    // node's default receive windows on purpose: two node:http2 peers with large windows can
    // deadlock on big messages (see EchoBackendOptions.windowBytes).
    // maxSessionMemory: node's 10 MB default cannot hold 256 concurrent 64 KiB requests.
    const session = http2.connect(`http://127.0.0.1:${port}`, {
      peerMaxConcurrentStreams: 100_000,
      maxSessionMemory: 256,
    });
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no HTTP/2 connection to 127.0.0.1:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    session.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    session.once('remoteSettings', () => {
      clearTimeout(timer);
      session.removeAllListeners('error');
      session.on('error', () => {});
      resolve(session);
    });
  });
}

/** One gRPC call with a fixed body; never rejects (every failure is described in the result). */
export function callGrpc(session: http2.ClientHttp2Session, options: CallOptions): Promise<CallResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    let httpStatus: number | undefined;
    let grpcStatus: number | undefined;
    let grpcMessage: string | undefined;
    let responseHeaders: http2.IncomingHttpHeaders | undefined;
    let error: string | undefined;
    let timedOut = false;
    const chunks: Buffer[] = [];
    let bodyBytes = 0;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(
        {
          ':method': 'POST',
          ':path': options.path,
          'content-type': 'application/grpc',
          te: 'trailers',
          ...options.headers,
        },
        { endStream: false },
      );
    } catch (caught) {
      const code = (caught as { code?: string }).code ?? String(caught);
      resolve({
        httpStatus,
        grpcStatus,
        grpcMessage,
        rstCode: undefined,
        error: code,
        timedOut,
        headers: undefined,
        bodyBytes: 0,
        body: undefined,
        elapsedMs: performance.now() - started,
      });
      return;
    }
    const readStatus = (fields: http2.IncomingHttpHeaders) => {
      const status = fields['grpc-status'];
      if (status !== undefined) {
        grpcStatus = Number(status);
        const message = fields['grpc-message'];
        grpcMessage = typeof message === 'string' ? decodeURIComponent(message) : undefined;
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }, options.timeoutMs);
    stream.on('response', (headers) => {
      httpStatus = Number(headers[':status']);
      responseHeaders = headers;
      readStatus(headers);
    });
    stream.on('trailers', readStatus);
    stream.on('data', (chunk: Buffer) => {
      bodyBytes += chunk.length;
      if (options.keepBody === true) chunks.push(chunk);
    });
    stream.on('error', (caught: Error & { code?: string }) => {
      error = caught.code ?? caught.message;
    });
    stream.on('close', () => {
      clearTimeout(timer);
      resolve({
        httpStatus,
        grpcStatus,
        grpcMessage,
        rstCode: stream.rstCode,
        error,
        timedOut,
        headers: responseHeaders,
        bodyBytes,
        body: options.keepBody === true ? Buffer.concat(chunks, bodyBytes) : undefined,
        elapsedMs: performance.now() - started,
      });
    });
    stream.end(options.body);
  });
}
