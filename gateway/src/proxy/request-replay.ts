import type { RequestFraming } from '../grpc/request-framing.js';

/**
 * The request bytes a call keeps so that it can be replayed on another endpoint when its upstream
 * fails mid-call (REFERENCE.md 6.12, with the rewrite's client-stream extension; the bounded replay
 * buffer of grpc-js' `MessageBufferTracker`). It keeps the raw DATA chunks as node delivered them
 * (no copies): replaying them in order, then pumping the client's later chunks, rebuilds the exact
 * request byte stream, even when a message was cut between chunks.
 *
 * Bounds: while the client has started at most one message, that message is kept up to
 * `maxSingleMessageBytes` (MAX_MESSAGE_BYTES when set, else 4 MiB); once a second message starts,
 * the whole buffer must stay within MAX_REPLAY_BUFFER_BYTES, and once a response message has reached
 * the client a multi-message call can never be replayed again. Past either bound the buffer is
 * dropped for good and the call is no longer transferable (it still runs: messages of any size are
 * relayed, only their replay is bounded).
 */
export class RequestReplay {
  private kept: Buffer[] = [];
  private bytes = 0;
  private dropped = false;

  constructor(
    private readonly maxReplayBufferBytes: number,
    private readonly maxSingleMessageBytes: number,
  ) {}

  /** Records one request chunk, after `framing` has consumed it. */
  record(chunk: Buffer, framing: RequestFraming, responseDelivered: boolean): void {
    if (this.dropped) return;
    this.kept.push(chunk);
    this.bytes += chunk.length;
    if (framing.messagesStarted >= 2) {
      if (responseDelivered || this.bytes > this.maxReplayBufferBytes) this.drop();
    } else if (this.bytes > this.maxSingleMessageBytes + 5) {
      this.drop();
    }
  }

  /** The first response message is reaching the client. */
  responseStarted(framing: RequestFraming): void {
    if (framing.messagesStarted >= 2) this.drop();
  }

  /**
   * Whether the call may move to another endpoint now. Before any response message reached the
   * client every call shape may (all buffered messages are replayed, later ones pumped). After it,
   * only the unary / server-streaming shape (the client half-closed after exactly one message) may:
   * a server stream then continues on the new endpoint.
   */
  transferable(framing: RequestFraming, halfClosed: boolean, responseDelivered: boolean): boolean {
    if (this.dropped) return false;
    if (!responseDelivered) return true;
    return halfClosed && framing.isSingleCompleteMessage;
  }

  /** The buffer went over a bound: the call can no longer move. */
  get isDropped(): boolean {
    return this.dropped;
  }

  get chunks(): readonly Buffer[] {
    return this.kept;
  }

  private drop(): void {
    this.dropped = true;
    this.kept = [];
    this.bytes = 0;
  }
}
