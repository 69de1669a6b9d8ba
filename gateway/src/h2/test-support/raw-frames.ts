/**
 * Raw HTTP/2 frames for the tests that speak to the codec on the wire: a frame writer (any type,
 * flags, stream id, a lying length, the reserved bit), a minimal HPACK encoder (literals and static
 * or dynamic indices, never Huffman, no dynamic table of its own) and a frame reader that splits a
 * byte stream at the 9-octet headers without judging what it reads.
 *
 * Used by the conformance suite (`../conformance/`), the fuzzer's generator and the hostile peers
 * (`../fuzz/`). It lives beside both rather than in either: neither suite is a library of the other
 * (the conformance suite runs alone against any h2c server, `make conformance`; the fuzzer runs
 * alone too), and each only needs the bytes. Like them it is test tooling that must stay
 * independent of the code under test, so a bug in the codec cannot hide in its own tests: it
 * imports nothing from the implementation but the wire constants (`../constants.ts`).
 */
import { CLIENT_PREFACE, ErrorCode, Flag, FrameType, SettingId } from '../constants.js';

export { CLIENT_PREFACE, ErrorCode, Flag, FrameType, SettingId };

// ============================================================================================
// Frames
// ============================================================================================

export interface RawFrameOptions {
  /** Written in the length field instead of the payload's real length (a lying header). */
  readonly length?: number;
  /** Sets the reserved bit in front of the stream id. */
  readonly reservedBit?: boolean;
}

/** One frame: the 9-octet header (length, type, flags, R + stream id), then the payload as given. */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
  options: RawFrameOptions = {},
): Buffer {
  const out = Buffer.allocUnsafe(9 + payload.length);
  out.writeUIntBE((options.length ?? payload.length) & 0xffffff, 0, 3);
  out[3] = type & 0xff;
  out[4] = flags & 0xff;
  out.writeUInt32BE(((streamId & 0x7fffffff) | (options.reservedBit ? 0x80000000 : 0)) >>> 0, 5);
  payload.copy(out, 9);
  return out;
}

function u32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value >>> 0, 0);
  return b;
}

/** A string as its latin1 octets (one octet per character), a Buffer as it is. */
function octets(data: Buffer | string): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
}

export type SettingEntry = readonly [id: number, value: number];

export function settingsFrame(entries: readonly SettingEntry[] = []): Buffer {
  const payload = Buffer.allocUnsafe(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id & 0xffff, i * 6);
    payload.writeUInt32BE(value >>> 0, i * 6 + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

export function settingsAckFrame(): Buffer {
  return frame(FrameType.SETTINGS, Flag.ACK, 0);
}

/**
 * The 8 octets of a PING: a bigint big-endian, or the first 8 octets of a Buffer or latin1 string
 * (shorter data is zero-padded, as h2spec's [8]byte).
 */
export function pingData(data: Buffer | string | bigint): Buffer {
  const out = Buffer.alloc(8);
  if (typeof data === 'bigint') out.writeBigUInt64BE(BigInt.asUintN(64, data), 0);
  else octets(data).copy(out, 0, 0, 8);
  return out;
}

export function pingFrame(data: Buffer | string | bigint = 0n, ack = false): Buffer {
  return frame(FrameType.PING, ack ? Flag.ACK : 0, 0, pingData(data));
}

export interface PriorityField {
  readonly dependency: number;
  readonly exclusive?: boolean;
  /** The wire octet: 0 means weight 1, 255 means weight 256. Default 15 (weight 16). */
  readonly weight?: number;
}

function priorityBytes(p: PriorityField): Buffer {
  const b = Buffer.allocUnsafe(5);
  b.writeUInt32BE(((p.dependency & 0x7fffffff) | (p.exclusive ? 0x80000000 : 0)) >>> 0, 0);
  b[4] = (p.weight ?? 15) & 0xff;
  return b;
}

/**
 * Padding of a PADDED frame: that many zero octets (taken modulo 256, as the Pad Length octet is),
 * or exactly these octets (h2spec pads DATA with "padded").
 */
type Padding = number | Buffer | string;

function paddingBytes(padding: Padding): Buffer {
  return typeof padding === 'number' ? Buffer.alloc(padding & 0xff) : octets(padding);
}

export interface HeadersFrameOptions {
  readonly endStream?: boolean;
  /** Default true. */
  readonly endHeaders?: boolean;
  /** Sets PADDED: the Pad Length octet first, the padding after the block. */
  readonly padding?: Padding;
  readonly priority?: PriorityField;
}

export function headersFrame(streamId: number, block: Buffer, options: HeadersFrameOptions = {}): Buffer {
  let flags = 0;
  if (options.endStream) flags |= Flag.END_STREAM;
  if (options.endHeaders ?? true) flags |= Flag.END_HEADERS;
  const pad = options.padding === undefined ? undefined : paddingBytes(options.padding);
  const parts: Buffer[] = [];
  if (pad !== undefined) {
    flags |= Flag.PADDED;
    parts.push(Buffer.from([pad.length & 0xff]));
  }
  if (options.priority !== undefined) {
    flags |= Flag.PRIORITY;
    parts.push(priorityBytes(options.priority));
  }
  parts.push(block);
  if (pad !== undefined) parts.push(pad);
  return frame(FrameType.HEADERS, flags, streamId, Buffer.concat(parts));
}

export function continuationFrame(streamId: number, fragment: Buffer, endHeaders: boolean): Buffer {
  return frame(FrameType.CONTINUATION, endHeaders ? Flag.END_HEADERS : 0, streamId, fragment);
}

export interface DataFrameOptions {
  readonly endStream?: boolean;
  /** Sets PADDED: the Pad Length octet first, the padding after the data. */
  readonly padding?: Padding;
}

export function dataFrame(streamId: number, data: Buffer | string, options: DataFrameOptions = {}): Buffer {
  const body = octets(data);
  let flags = options.endStream ? Flag.END_STREAM : 0;
  if (options.padding === undefined) return frame(FrameType.DATA, flags, streamId, body);
  flags |= Flag.PADDED;
  const pad = paddingBytes(options.padding);
  return frame(FrameType.DATA, flags, streamId, Buffer.concat([Buffer.from([pad.length & 0xff]), body, pad]));
}

export function priorityFrame(streamId: number, priority: PriorityField): Buffer {
  return frame(FrameType.PRIORITY, 0, streamId, priorityBytes(priority));
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  return frame(FrameType.RST_STREAM, 0, streamId, u32(code));
}

export function goawayFrame(lastStreamId: number, code: number, debug: Buffer | string = ''): Buffer {
  return frame(
    FrameType.GOAWAY,
    0,
    0,
    Buffer.concat([u32(lastStreamId & 0x7fffffff), u32(code), octets(debug)]),
  );
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, u32(increment & 0x7fffffff));
}

export function pushPromiseFrame(streamId: number, promisedId: number, block: Buffer): Buffer {
  return frame(
    FrameType.PUSH_PROMISE,
    Flag.END_HEADERS,
    streamId,
    Buffer.concat([u32(promisedId & 0x7fffffff), block]),
  );
}

// ============================================================================================
// Minimal HPACK (RFC 7541): no Huffman, no dynamic table of its own
// ============================================================================================

export type HeaderList = readonly (readonly [string, string])[];

/** RFC 7541 5.1 integer with an N-bit prefix; `high` holds the representation's leading bits. */
export function hpackInteger(value: number, prefixBits: number, high = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([high | value]);
  const out = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/** RFC 7541 5.2 string literal, raw octets (H = 0). */
export function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInteger(bytes.length, 7), bytes]);
}

/** 6.2.2 literal without indexing, new name: leaves the peer's dynamic table alone. */
export function hpackLiteral(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]);
}

/** 6.2.1 literal with incremental indexing, new name: adds (name, value) to the peer's table. */
export function hpackLiteralIndexed(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40]), hpackString(name), hpackString(value)]);
}

/** 6.1 indexed field (1..61 static, 62.. dynamic). */
export function hpackIndexed(index: number): Buffer {
  return hpackInteger(index, 7, 0x80);
}

/** 6.3 dynamic table size update. */
export function hpackSizeUpdate(size: number): Buffer {
  return hpackInteger(size, 5, 0x20);
}

/** A header block of literals without indexing: it leaves the peer's dynamic table untouched. */
export function hpackBlock(headers: HeaderList): Buffer {
  return Buffer.concat(headers.map(([name, value]) => hpackLiteral(name, value)));
}

// ============================================================================================
// Reading frames back
// ============================================================================================

export interface RawFrame {
  readonly type: number;
  readonly flags: number;
  /** Without the reserved bit. */
  readonly streamId: number;
  /** The length field as received (equals payload.length). */
  readonly length: number;
  readonly payload: Buffer;
}

/** Splits a byte stream into frames (no validation beyond the header); keeps partial frames. */
export class FrameReader {
  private buffer = Buffer.alloc(0);
  /** Bytes of a preface to skip first (server side reading a client). */
  private skip: number;
  /** false once a skipped preface octet differed from CLIENT_PREFACE. */
  prefaceOk = true;

  constructor(expectPreface = false) {
    this.skip = expectPreface ? CLIENT_PREFACE.length : 0;
  }

  /** Bytes buffered that are not a whole frame yet. */
  get pending(): number {
    return this.buffer.length;
  }

  /** The frames completed by `chunk`, in order (each payload a copy). */
  push(chunk: Buffer): RawFrame[] {
    let data = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.skip > 0) {
      const n = Math.min(this.skip, data.length);
      const offset = CLIENT_PREFACE.length - this.skip;
      if (data.compare(CLIENT_PREFACE, offset, offset + n, 0, n) !== 0) this.prefaceOk = false;
      this.skip -= n;
      data = data.subarray(n);
    }
    const out: RawFrame[] = [];
    let pos = 0;
    while (data.length - pos >= 9) {
      const length = data.readUIntBE(pos, 3);
      if (data.length - pos < 9 + length) break;
      out.push({
        type: data[pos + 3] as number,
        flags: data[pos + 4] as number,
        streamId: data.readUInt32BE(pos + 5) & 0x7fffffff,
        length,
        payload: Buffer.from(data.subarray(pos + 9, pos + 9 + length)),
      });
      pos += 9 + length;
    }
    this.buffer = pos === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(pos));
    return out;
  }
}

/** The error code of a RST_STREAM (payload 0-3) or GOAWAY (payload 4-7); undefined if too short. */
export function frameErrorCode(f: RawFrame): number | undefined {
  if (f.type === FrameType.RST_STREAM && f.payload.length >= 4) return f.payload.readUInt32BE(0);
  if (f.type === FrameType.GOAWAY && f.payload.length >= 8) return f.payload.readUInt32BE(4);
  return undefined;
}
