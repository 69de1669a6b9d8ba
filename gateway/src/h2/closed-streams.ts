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
 * The last `capacity` streams that closed and how. A ring keeps the order of recording, so the
 * oldest is forgotten in O(1) without iterating a Map; the Map answers lookups in O(1). Each Map
 * value carries the ring slot that recorded it, so forgetting an old slot never drops a newer
 * record of the same id.
 */
export class ClosedStreams {
  private readonly ring: Int32Array;
  private readonly byId = new Map<number, number>();
  private next = 0;
  private filled = false;

  constructor(private readonly capacity = 4096) {
    this.ring = new Int32Array(capacity);
  }

  record(streamId: number, kind: number): void {
    const slot = this.next;
    if (this.filled) {
      const old = this.ring[slot] as number;
      const entry = this.byId.get(old);
      if (entry !== undefined && entry >>> 2 === slot) this.byId.delete(old);
    }
    this.ring[slot] = streamId;
    this.byId.set(streamId, (slot << 2) | kind);
    this.next = slot + 1;
    if (this.next === this.capacity) {
      this.next = 0;
      this.filled = true;
    }
  }

  /** How `streamId` closed, or 0 when it is not (or no longer) remembered. */
  kindOf(streamId: number): number {
    const entry = this.byId.get(streamId);
    return entry === undefined ? 0 : entry & 3;
  }
}
