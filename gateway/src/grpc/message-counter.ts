/**
 * Counts the gRPC messages of one direction of a call from its length prefixes (1 flag byte, 4
 * bytes big-endian length): the messages are skipped, never parsed. Cost per chunk: one step per
 * message boundary inside it.
 */
export class MessageCounter {
  count = 0;
  /** Bytes of the current message still to skip. */
  private remaining = 0;
  /** Prefix bytes of the next message read so far (0-4), and its length so far. */
  private prefixRead = 0;
  private length = 0;

  push(chunk: Buffer): void {
    let offset = 0;
    const size = chunk.length;
    while (offset < size) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, size - offset);
        this.remaining -= skip;
        offset += skip;
        continue;
      }
      if (this.prefixRead === 0) this.count++;
      if (this.prefixRead > 0) this.length = this.length * 256 + (chunk[offset] as number);
      offset++;
      this.prefixRead++;
      if (this.prefixRead === 5) {
        this.remaining = this.length;
        this.prefixRead = 0;
        this.length = 0;
      }
    }
  }
}
