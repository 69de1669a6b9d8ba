import type { Endpoint } from '../cluster/endpoint.js';
import type { Http2Connection } from '../h2/connection.js';
import type { HeaderFields, Http2Stream, StreamHandler } from '../h2/stream.js';
import type { UpstreamConnection } from '../upstream/upstream-connection.js';

/** What an attempt reports to the call that owns it; only the call's current attempt is heard. */
export interface AttemptOwner {
  readonly attempt: UpstreamAttempt | undefined;
  upstreamHeaders(attempt: UpstreamAttempt, fields: HeaderFields, endStream: boolean): void;
  upstreamData(attempt: UpstreamAttempt, data: Buffer): void;
  upstreamTrailers(attempt: UpstreamAttempt, fields: HeaderFields): void;
  upstreamWritten(attempt: UpstreamAttempt, bytes: number): void;
  upstreamClosed(attempt: UpstreamAttempt, code: number, remote: boolean): void;
}

/**
 * One upstream stream of a call (grpc-js' per-attempt call under its RetryingCall): the endpoint, the
 * connection it runs on, and the stream's events forwarded to the call while it is the call's current
 * attempt. An attempt the call left behind (cancelled, failed, transferred away from) is deaf: its
 * late events change nothing, except that its close is counted for the connection's keepalive.
 */
export class UpstreamAttempt implements StreamHandler {
  stream: Http2Stream | undefined;
  /** The upstream ended the call: trailers or a trailers-only answer arrived. */
  answered = false;

  constructor(
    private readonly owner: AttemptOwner,
    readonly endpoint: Endpoint,
    readonly upstream: UpstreamConnection,
    readonly connection: Http2Connection,
  ) {}

  /** Opens the stream; throws if the connection stopped taking streams. */
  open(fields: HeaderFields, endStream: boolean): Http2Stream {
    this.stream = this.upstream.request(this.connection, fields, endStream, this);
    return this.stream;
  }

  private get current(): boolean {
    return this.owner.attempt === this;
  }

  /** Stops the stream (RST_STREAM CANCEL) unless it already closed. */
  cancel(): void {
    const stream = this.stream;
    if (stream !== undefined && !stream.closed) stream.reset();
  }

  onHeaders(_stream: Http2Stream, fields: HeaderFields, endStream: boolean): void {
    if (endStream) this.answered = true;
    if (this.current) this.owner.upstreamHeaders(this, fields, endStream);
  }

  onData(stream: Http2Stream, data: Buffer): void {
    if (this.current) this.owner.upstreamData(this, data);
    else stream.credit(data.length);
  }

  onTrailers(_stream: Http2Stream, fields: HeaderFields): void {
    this.answered = true;
    if (this.current) this.owner.upstreamTrailers(this, fields);
  }

  onEnd(): void {}

  onWritten(_stream: Http2Stream, bytes: number): void {
    if (this.current) this.owner.upstreamWritten(this, bytes);
  }

  onClose(_stream: Http2Stream, code: number, remote: boolean): void {
    this.upstream.release();
    if (this.current) this.owner.upstreamClosed(this, code, remote);
  }
}
