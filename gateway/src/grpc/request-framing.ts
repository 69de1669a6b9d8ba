/**
 * Incremental reader of the gRPC length-prefixed message framing (PROTOCOL-HTTP2.md,
 * `Length-Prefixed-Message`: 1 byte compressed flag, 4 bytes big-endian length, the message) for the
 * REQUEST direction only. It copies nothing: it walks each DATA chunk once to count messages and to
 * enforce the per-message size limit. Responses are never parsed.
 */
export class RequestFraming {
  /** Messages whose 5-byte prefix has been read (the last one may still be incomplete). */
  messagesStarted = 0;
  /** Bytes of the current message still to come. */
  private remaining = 0;
  /** Prefix bytes of the next message read so far (0..4). */
  private prefixRead = 0;
  private pendingLength = 0;
  /**
   * Set once a prefix breaks the framing rules (PROTOCOL-HTTP2.md: the flag is 0 or 1, and 1 needs a
   * `grpc-encoding` other than identity): the message for the INTERNAL status that ends the call.
   */
  violation: string | undefined;

  constructor(
    private readonly maxMessageBytes: number,
    /** The request carries a `grpc-encoding` other than `identity`. */
    private readonly compressionAllowed = false,
  ) {}

  /**
   * Consumes one chunk. Returns -1 when every prefix seen is within the limit, otherwise the
   * announced length of the first message that is over it (the call must then be failed).
   */
  push(chunk: Uint8Array): number {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.prefixRead++ === 0) {
        // The compressed flag. A backend may not check it (grpc-js decodes a flagged message as plain
        // bytes when no encoding was announced), so the gateway does.
        if (byte > 1) this.violation ??= `request message has an invalid compressed flag ${byte}`;
        else if (byte === 1 && !this.compressionAllowed)
          this.violation ??= 'request message is compressed but no grpc-encoding was sent';
        continue;
      }
      this.pendingLength = this.pendingLength * 256 + byte;
      if (this.prefixRead < 5) continue;
      const length = this.pendingLength;
      this.prefixRead = 0;
      this.pendingLength = 0;
      this.messagesStarted++;
      if (length > this.maxMessageBytes) return length;
      this.remaining = length;
    }
    return -1;
  }

  /** True when the bytes seen so far end exactly at a message boundary (none started and unfinished). */
  get atMessageBoundary(): boolean {
    return this.remaining === 0 && this.prefixRead === 0;
  }

  /** True when the bytes seen so far are exactly one complete message (the unary request shape). */
  get isSingleCompleteMessage(): boolean {
    return this.messagesStarted === 1 && this.remaining === 0 && this.prefixRead === 0;
  }
}
