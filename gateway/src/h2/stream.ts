import type { Http2Connection } from './connection.js';
import { ErrorCode } from './constants.js';

/** A header list as it travels: `[name0, value0, name1, value1, ...]`, latin1, in wire order. */
export type HeaderFields = string[];

/**
 * What a stream tells its user. One object usually handles both streams of a proxied call (the
 * call itself), so every method receives the stream it is about; no closure per call.
 * Callbacks run synchronously from the connection's frame handling; they must not throw.
 */
export interface StreamHandler {
  /**
   * Client role: the response headers (1xx are skipped), or a trailers-only answer when `endStream`.
   * Server role: never called (the request headers come with `onStream`).
   */
  onHeaders(stream: Http2Stream, fields: HeaderFields, endStream: boolean): void;
  /**
   * A DATA payload (never empty). `data` may be a view into a socket read buffer: keep it only as
   * long as needed. Give the bytes back with `stream.credit(n)` once they are consumed (relayed),
   * else the peer's window on this stream closes.
   */
  onData(stream: Http2Stream, data: Buffer): void;
  /** Trailers (a HEADERS frame with END_STREAM after the headers). `onEnd` follows. */
  onTrailers(stream: Http2Stream, fields: HeaderFields): void;
  /** The peer ended its side (END_STREAM): no more data. */
  onEnd(stream: Http2Stream): void;
  /** `bytes` queued by `write()` have left for the socket (window opened): the source may be credited. */
  onWritten(stream: Http2Stream, bytes: number): void;
  /**
   * The stream is closed, the last callback. `code` is NO_ERROR after both sides ended normally;
   * otherwise the RST_STREAM code (sent or received) or the connection's error. `remote` tells
   * whether the peer caused it (its RST_STREAM, GOAWAY, connection loss) or this side did.
   * `refused` marks a stream the peer never processed (REFUSED_STREAM, or above a GOAWAY's last
   * stream id): safe to retry anywhere.
   */
  onClose(stream: Http2Stream, code: number, remote: boolean, refused: boolean): void;
}

/** A queued chunk of outbound DATA (a write the windows did not let through at once). */
interface PendingChunk {
  readonly buf: Buffer;
  offset: number;
}

/**
 * One HTTP/2 stream (RFC 9113 5.1), either role. The state is the pair of half-close flags:
 * open, half-closed (local), half-closed (remote), closed. Reserved states do not exist here
 * (push is disabled both ways). All frame I/O goes through the owning connection.
 */
export class Http2Stream {
  handler: StreamHandler | undefined;
  /** The user's own data (the call a stream belongs to). */
  context: unknown;
  /** We sent END_STREAM (or queued it behind pending data). */
  localEnded = false;
  /** The peer sent END_STREAM. */
  remoteEnded = false;
  closed = false;
  headersSent = false;
  /** Client role: the final response headers have arrived. Server role: the request headers. */
  headersReceived = false;
  /** The first HEADERS sent carried END_STREAM (a trailers-only answer). */
  trailersOnly = false;
  /** Our send window on this stream (the peer's receive window for it). */
  sendWindow: number;
  /** What the peer may still send us on this stream before our next WINDOW_UPDATE. */
  receiveWindow: number;
  /** Received bytes the user has credited and we have not yet returned with WINDOW_UPDATE. */
  creditPending = 0;
  /** Received bytes not yet credited by the user (held by the user). */
  held = 0;
  /** Declared content-length of the peer's message, or -1. */
  expectedLength = -1;
  receivedLength = 0;
  /** Outbound DATA waiting for window, oldest first. */
  pending: PendingChunk[] | undefined;
  pendingBytes = 0;
  /** END_STREAM (`end()`) or trailers waiting behind pending data. */
  endQueued = false;
  trailersQueued: HeaderFields | undefined;
  /** In the connection's list of streams with blocked output. */
  blocked = false;
  /** We sent RST_STREAM on it. */
  resetSent = false;
  /** Once our END_STREAM is written, a peer still sending gets RST_STREAM(NO_ERROR) (RFC 9113 8.1). */
  resetWhenEnded = false;

  constructor(
    readonly id: number,
    readonly connection: Http2Connection,
    sendWindow: number,
    receiveWindow: number,
  ) {
    this.sendWindow = sendWindow;
    this.receiveWindow = receiveWindow;
  }

  /** Server role: sends the response headers; `endStream` makes them a trailers-only answer. */
  respond(fields: HeaderFields, endStream = false): void {
    this.connection.sendHeaders(this, fields, endStream);
  }

  /**
   * Sends DATA (split to frame size and windows). Returns how many bytes went out now; the rest is
   * queued and reported by `onWritten` as it leaves. Nothing is sent on a closed or ended stream.
   */
  write(data: Buffer): number {
    return this.connection.writeData(this, data);
  }

  /** Ends our side (END_STREAM), after any queued data. */
  end(): void {
    this.connection.endStream(this);
  }

  /** Ends our side with trailers (HEADERS + END_STREAM), after any queued data. */
  sendTrailers(fields: HeaderFields): void {
    this.connection.sendTrailers(this, fields);
  }

  /** Resets the stream (RST_STREAM), default CANCEL. Idempotent. */
  reset(code: number = ErrorCode.CANCEL): void {
    this.connection.resetStream(this, code);
  }

  /**
   * Server role: the response is complete, so the rest of the request is not wanted. Once our
   * END_STREAM has been written (after any queued data and trailers), a client still sending is told
   * to stop with RST_STREAM(NO_ERROR), as RFC 9113 8.1 allows, instead of uploading for nothing.
   */
  stopRequestWhenEnded(): void {
    this.resetWhenEnded = true;
    this.connection.maybeStopRequest(this);
  }

  /** Gives `bytes` received bytes back to the peer (WINDOW_UPDATE when worth it). */
  credit(bytes: number): void {
    this.connection.creditStream(this, bytes);
  }

  /** True when both sides have ended or the stream was reset. */
  get isClosed(): boolean {
    return this.closed;
  }
}
