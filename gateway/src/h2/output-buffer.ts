import { FRAME_HEADER_BYTES } from './constants.js';

/** Payloads up to this size are copied next to their frame header: one iovec instead of two. */
export const COPY_LIMIT = 2048;
const SLAB_BYTES = 64 * 1024;
/**
 * A turn that starts with less room than this left in the slab would likely overflow it and leave
 * its output in two pieces (a writev instead of a write): such a turn starts on a fresh slab.
 */
const SLAB_RENEW_BELOW = 24 * 1024;
const NO_SLAB = Buffer.alloc(0);

/**
 * The bytes a connection has produced and not yet handed to its socket: frame headers and small
 * payloads are written into a slab, large payloads (DATA relayed from another connection) are
 * attached as they are, without a copy. `take()` hands everything over in wire order.
 */
export class OutputBuffer {
  private slab = Buffer.allocUnsafe(SLAB_BYTES);
  /** Start of the slab region not yet cut into `parts`. */
  private start = 0;
  private pos = 0;
  private parts: Buffer[] = [];
  /** Bytes waiting in parts + the open slab region. */
  length = 0;

  /** Room for `n` more bytes in the slab, cutting the current region off if it must move. */
  private reserve(n: number): void {
    if (this.pos + n <= this.slab.length) return;
    this.cut();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, n));
    this.start = 0;
    this.pos = 0;
  }

  private cut(): void {
    if (this.pos > this.start) {
      this.parts.push(this.slab.subarray(this.start, this.pos));
      this.start = this.pos;
    }
  }

  /** Writes a frame header; `payloadRoom` keeps that many more bytes contiguous behind it. */
  header(length: number, type: number, flags: number, streamId: number, payloadRoom = 0): void {
    this.reserve(FRAME_HEADER_BYTES + payloadRoom);
    const slab = this.slab;
    let pos = this.pos;
    slab[pos++] = length >>> 16;
    slab[pos++] = (length >>> 8) & 0xff;
    slab[pos++] = length & 0xff;
    slab[pos++] = type;
    slab[pos++] = flags;
    slab[pos++] = streamId >>> 24;
    slab[pos++] = (streamId >>> 16) & 0xff;
    slab[pos++] = (streamId >>> 8) & 0xff;
    slab[pos++] = streamId & 0xff;
    this.pos = pos;
    this.length += FRAME_HEADER_BYTES;
  }

  /** A 32-bit big-endian value (stream ids, error codes, window increments, settings values). */
  u32(value: number): void {
    this.reserve(4);
    this.slab.writeUInt32BE(value >>> 0, this.pos);
    this.pos += 4;
    this.length += 4;
  }

  u16(value: number): void {
    this.reserve(2);
    this.slab.writeUInt16BE(value, this.pos);
    this.pos += 2;
    this.length += 2;
  }

  /** Payload bytes: copied when small, attached without a copy otherwise. */
  payload(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    this.length += n;
    if (n <= COPY_LIMIT) {
      this.reserve(n);
      buf.copy(this.slab, this.pos, start, end);
      this.pos += n;
      return;
    }
    this.cut();
    this.parts.push(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
  }

  /**
   * Room to encode up to `max` bytes in place (HPACK): returns the slab and the position; the caller
   * reports what it used with `commit`.
   */
  claim(max: number): Buffer {
    this.reserve(max);
    return this.slab;
  }

  get position(): number {
    return this.pos;
  }

  commit(end: number): void {
    this.length += end - this.pos;
    this.pos = end;
  }

  /** Everything queued, in order; the buffer is empty afterwards. */
  take(): Buffer[] {
    this.cut();
    const parts = this.parts;
    this.parts = [];
    this.length = 0;
    // The rest of the slab stays usable (the parts handed out end before `start`) unless it is
    // nearly used up; an idle connection then holds no slab at all.
    if (this.slab.length - this.pos < SLAB_RENEW_BELOW) {
      this.slab = NO_SLAB;
      this.start = 0;
      this.pos = 0;
    }
    return parts;
  }
}
