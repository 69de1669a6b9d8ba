import { decodeHuffman } from './huffman.js';

/** RFC 7541 Appendix A, index 1..61 (index 0 unused). */
const STATIC: readonly (readonly [string, string])[] = [
  ['', ''],
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];
const STATIC_LENGTH = STATIC.length - 1;
const STATIC_NAME = new Map<string, number>();
const STATIC_FIELD = new Map<string, number>();
for (let i = STATIC_LENGTH; i >= 1; i--) {
  const [name, value] = STATIC[i] as readonly [string, string];
  STATIC_NAME.set(name, i);
  if (value !== '') STATIC_FIELD.set(`${name}\0${value}`, i);
}

/** Per RFC 7541 4.1: octets of name and value plus 32. Strings are latin1: one char per octet. */
const entrySize = (name: string, value: string) => name.length + value.length + 32;

/**
 * HPACK decoder for one direction of one connection (RFC 7541): static and dynamic table with
 * eviction, size updates, integers, plain and Huffman strings. Output is a flat list
 * `[name0, value0, name1, value1, ...]` in wire order (pseudo-headers first, as sent).
 */
export class HpackDecoder {
  /** Dynamic table, oldest first: dynamic index 1 is the last element. */
  private readonly names: string[] = [];
  private readonly values: string[] = [];
  private size = 0;
  private maxSize: number;
  private pos = 0;

  /** `limit`: the SETTINGS_HEADER_TABLE_SIZE this side advertised (default 4,096). */
  constructor(private readonly limit = 4096) {
    this.maxSize = limit;
  }

  decode(buf: Buffer, start: number, end: number): string[] {
    const out: string[] = [];
    this.pos = start;
    while (this.pos < end) {
      const byte = buf[this.pos] as number;
      if (byte & 0x80) {
        const index = this.integer(buf, end, 7);
        if (index === 0) throw new Error('hpack: index 0');
        out.push(this.name(index), this.value(index));
      } else if (byte & 0x40) {
        const index = this.integer(buf, end, 6);
        const name = index === 0 ? this.string(buf, end) : this.name(index);
        const value = this.string(buf, end);
        out.push(name, value);
        this.insert(name, value);
      } else if (byte & 0x20) {
        const size = this.integer(buf, end, 5);
        if (size > this.limit) throw new Error(`hpack: table size update ${size} above ${this.limit}`);
        this.maxSize = size;
        this.evict(0);
      } else {
        const index = this.integer(buf, end, 4);
        const name = index === 0 ? this.string(buf, end) : this.name(index);
        out.push(name, this.string(buf, end));
      }
    }
    return out;
  }

  private integer(buf: Buffer, end: number, prefixBits: number): number {
    const max = (1 << prefixBits) - 1;
    let value = (buf[this.pos++] as number) & max;
    if (value < max) return value;
    let shift = 0;
    for (;;) {
      if (this.pos >= end) throw new Error('hpack: truncated integer');
      const byte = buf[this.pos++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) return value;
      if (shift > 28) throw new Error('hpack: integer too large');
    }
  }

  private string(buf: Buffer, end: number): string {
    if (this.pos >= end) throw new Error('hpack: truncated string');
    const huffman = ((buf[this.pos] as number) & 0x80) !== 0;
    const length = this.integer(buf, end, 7);
    const from = this.pos;
    this.pos += length;
    if (this.pos > end) throw new Error('hpack: string past the end of the block');
    return huffman ? decodeHuffman(buf, from, this.pos) : buf.toString('latin1', from, this.pos);
  }

  private name(index: number): string {
    if (index <= STATIC_LENGTH) return (STATIC[index] as readonly [string, string])[0];
    const at = this.names.length - (index - STATIC_LENGTH);
    if (at < 0) throw new Error(`hpack: index ${index} beyond the dynamic table`);
    return this.names[at] as string;
  }

  private value(index: number): string {
    if (index <= STATIC_LENGTH) return (STATIC[index] as readonly [string, string])[1];
    return this.values[this.values.length - (index - STATIC_LENGTH)] as string;
  }

  private insert(name: string, value: string): void {
    const size = entrySize(name, value);
    this.evict(size);
    if (size > this.maxSize) return;
    this.names.push(name);
    this.values.push(value);
    this.size += size;
  }

  /** Evicts oldest entries until `incoming` more octets fit (RFC 7541 4.4). */
  private evict(incoming: number): void {
    let drop = 0;
    while (this.size + incoming > this.maxSize && drop < this.names.length) {
      this.size -= entrySize(this.names[drop] as string, this.values[drop] as string);
      drop++;
    }
    if (drop > 0) {
      this.names.splice(0, drop);
      this.values.splice(0, drop);
    }
  }
}

/**
 * HPACK encoder for one direction of one connection, built to be cheap rather than small:
 * exact static matches are indexed; other fields are added to the dynamic table while they fit
 * in it and are never evicted (so no eviction bookkeeping and indices stay valid), and once
 * the table is full the rest go out as literals without indexing. Strings are never
 * Huffman-coded. With fixed per-call headers (h2load, a gRPC client) every field becomes a
 * one- or two-byte index after the first call.
 */
export class HpackEncoder {
  /** `name\0value` → insertion number. */
  private readonly inserted = new Map<string, number>();
  private count = 0;
  private used = 0;

  /** `tableSize`: the peer's SETTINGS_HEADER_TABLE_SIZE (default 4,096); 0 disables indexing. */
  constructor(private tableSize = 4096) {}

  /**
   * The peer changed SETTINGS_HEADER_TABLE_SIZE. Only shrinking below what is used would need a
   * size update and evictions; this encoder just stops adding entries then, which is valid as long
   * as the peer does not shrink below `used` (node and nghttp2 never do).
   */
  setTableSize(size: number): void {
    this.tableSize = Math.min(this.tableSize, size);
  }

  /** Encodes a flat `[name, value, ...]` list into one header block. */
  encode(fields: readonly string[]): Buffer {
    let length = 0;
    for (let i = 0; i < fields.length; i++) length += (fields[i] as string).length + 6;
    const out = Buffer.allocUnsafe(length);
    let pos = 0;
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i] as string;
      const value = fields[i + 1] as string;
      const key = `${name}\0${value}`;
      const staticIndex = STATIC_FIELD.get(key);
      if (staticIndex !== undefined) {
        pos = writeInteger(out, pos, staticIndex, 7, 0x80);
        continue;
      }
      const insertion = this.inserted.get(key);
      if (insertion !== undefined) {
        pos = writeInteger(out, pos, STATIC_LENGTH + this.count - insertion, 7, 0x80);
        continue;
      }
      const nameIndex = STATIC_NAME.get(name) ?? 0;
      const size = entrySize(name, value);
      if (this.used + size <= this.tableSize) {
        pos = writeInteger(out, pos, nameIndex, 6, 0x40);
        this.inserted.set(key, this.count++);
        this.used += size;
      } else {
        pos = writeInteger(out, pos, nameIndex, 4, 0x00);
      }
      if (nameIndex === 0) pos = writeString(out, pos, name);
      pos = writeString(out, pos, value);
    }
    return out.subarray(0, pos);
  }
}

function writeInteger(out: Buffer, pos: number, value: number, prefixBits: number, pattern: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out[pos++] = pattern | value;
    return pos;
  }
  out[pos++] = pattern | max;
  let rest = value - max;
  while (rest >= 128) {
    out[pos++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 128);
  }
  out[pos++] = rest;
  return pos;
}

function writeString(out: Buffer, pos: number, text: string): number {
  pos = writeInteger(out, pos, text.length, 7, 0x00);
  return pos + out.write(text, pos, 'latin1');
}
