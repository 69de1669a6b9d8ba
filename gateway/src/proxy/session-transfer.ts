import type { RequestFraming } from '../grpc/framing.js';

/**
 * The request bytes a call keeps so that it can be replayed on another endpoint when its upstream
 * fails mid-call (REFERENCE.md 6.12, with the rewrite's client-stream extension; the bounded replay
 * buffer of grpc-js' `MessageBufferTracker`). It keeps the raw DATA chunks as node delivered them
 * (no copies): replaying them in order, then pumping the client's later chunks, rebuilds the exact
 * request byte stream, even when a message was cut between chunks.
 *
 * Bounds: while the client has started at most one message, the chunks of that message are kept
 * (it is at most MAX_MESSAGE_BYTES, enforced by the framing); once a second message starts, the
 * whole buffer must stay within MAX_REPLAY_BUFFER_BYTES, and once a response message has reached the
 * client a multi-message call can never be replayed again. Past either bound the buffer is dropped
 * for good and the call is no longer transferable.
 */
export class RequestReplay {
  private kept: Buffer[] = [];
  private bytes = 0;
  private dropped = false;

  constructor(private readonly maxReplayBufferBytes: number) {}

  /** Records one request chunk, after `framing` has consumed it. */
  record(chunk: Buffer, framing: RequestFraming, responseDelivered: boolean): void {
    if (this.dropped) return;
    this.kept.push(chunk);
    this.bytes += chunk.length;
    if (framing.messagesStarted >= 2 && (responseDelivered || this.bytes > this.maxReplayBufferBytes))
      this.drop();
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

  get chunks(): readonly Buffer[] {
    return this.kept;
  }

  get bufferedBytes(): number {
    return this.bytes;
  }

  private drop(): void {
    this.dropped = true;
    this.kept = [];
    this.bytes = 0;
  }
}
