/** How a stream that is no longer open closed (RFC 9113 5.1, the closed state). */
export const ClosedBy = {
  /** We sent RST_STREAM: frames the peer had in flight are ignored. */
  US: 1,
  /** The peer sent RST_STREAM: more frames from it are a stream error STREAM_CLOSED. */
  PEER_RESET: 2,
  /** Both sides sent END_STREAM: more frames are a connection error STREAM_CLOSED. */
  ENDED: 3,
} as const;

/**
 * The last `capacity` streams that closed and how, in a ring: recording is O(1) and allocation-free
 * (it happens for every stream), looking up is a scan (it happens only for frames on closed
 * streams, which are rare and bounded by the connection's idle-frame limit). A newer record of the
 * same id wins, since the scan runs newest first.
 */
export class ClosedStreams {
  private readonly ids: Int32Array;
  private readonly kinds: Uint8Array;
  private next = 0;
  private count = 0;

  constructor(private readonly capacity = 4096) {
    this.ids = new Int32Array(capacity);
    this.kinds = new Uint8Array(capacity);
  }

  record(streamId: number, kind: number): void {
    this.ids[this.next] = streamId;
    this.kinds[this.next] = kind;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    if (this.count < this.capacity) this.count++;
  }

  /** How `streamId` closed, or 0 when it is not (or no longer) remembered. */
  kindOf(streamId: number): number {
    let at = this.next;
    for (let i = 0; i < this.count; i++) {
      at = at === 0 ? this.capacity - 1 : at - 1;
      if (this.ids[at] === streamId) return this.kinds[at] as number;
    }
    return 0;
  }
}
