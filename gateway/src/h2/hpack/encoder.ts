import { encodeHuffmanWithin } from './huffman.js';
import { isLearnedNeverIndexed } from './never-indexed.js';
import type { StaticName } from './static-table.js';
import { STATIC_NAME_INFO, STATIC_TABLE_LENGTH } from './static-table.js';

/** The dynamic table size both ends start with (RFC 9113 6.5.2, initial SETTINGS_HEADER_TABLE_SIZE). */
const INITIAL_TABLE_SIZE = 4096;
/** Per-entry overhead of RFC 7541 4.1. */
const ENTRY_OVERHEAD = 32;
/** SETTINGS values are 32-bit: the peer may send any of them, and larger ones are clamped. */
const MAX_SETTING = 0xffffffff;
/** Largest table this encoder can be allowed to use (HPACK integers stay below 2^31 here). */
const MAX_CAPACITY = 0x7fffffff;
/** Initial ring capacity (power of two); grows by doubling. */
const INITIAL_RING_CAPACITY = 32;
/**
 * Worst case of one field beyond its name and value octets: the representation's integer (prefix
 * octet plus up to 5 continuation octets) and two string length integers of the same size.
 */
const FIELD_OVERHEAD_BOUND = 18;
/** Worst case of the two table size updates a block may start with. */
const UPDATES_BOUND = 12;
/** Literals at least this long go through the repeated-literal cache. */
const CACHE_MIN_LENGTH = 24;
/** And at most this long (bounds the memory the cache keeps per connection). */
const CACHE_MAX_LENGTH = 1024;
/** Entries of the repeated-literal cache (at most CACHE_MAX_LENGTH + 6 octets each). */
const CACHE_ENTRIES = 32;

/**
 * What the encoder knows about one name: its static entries (if any) and its dynamic ones. One
 * record per name keeps a warm field at two map lookups (name, then value) on strings whose hashes
 * V8 has cached, rather than a `name\0value` key string built and hashed per field.
 */
class NameRecord {
  /** Lowest static index with this name; 0 if the name is not in the static table. */
  readonly staticIndex: number;
  /** StaticName.values: null when the only static entry is staticIndex with the empty value. */
  readonly staticValues: ReadonlyMap<string, number> | null;
  readonly sensitive: boolean;
  /** Value → absolute insertion number of the dynamic entry with this name and value. */
  readonly dynamic = new Map<string, number>();
  /** Insertion number of the newest dynamic entry with this name (alive while `dynamic` is not empty). */
  latest = 0;

  constructor(info: StaticName | undefined) {
    this.staticIndex = info?.index ?? 0;
    this.staticValues = info?.values ?? null;
    this.sensitive = info?.sensitive ?? false;
  }
}

function writeInteger(out: Buffer, pos: number, value: number, prefixMask: number, pattern: number): number {
  if (value < prefixMask) {
    out[pos++] = pattern | value;
    return pos;
  }
  out[pos++] = pattern | prefixMask;
  let rest = value - prefixMask;
  while (rest >= 0x80) {
    out[pos++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[pos++] = rest;
  return pos;
}

function checkSize(size: number, max: number): number {
  if (!Number.isInteger(size) || size < 0 || size > max) {
    throw new RangeError(`table size must be an integer in [0, ${max}], got ${size}`);
  }
  return size;
}

/**
 * HPACK encoder (RFC 7541) for the header blocks we send on one connection; it mirrors the
 * dynamic table of the peer's decoder, so every block it produces must be sent, in order.
 *
 * Choices: an exact static or dynamic match is indexed; anything else is a literal with
 * incremental indexing (name indexed when a table has it), except sensitive fields
 * (authorization, proxy-authorization, cookie, set-cookie), which are literals never indexed, and
 * fields taking more than half the table, which are literals without indexing so that one large
 * value does not flush everything else. Strings are Huffman-coded when that is shorter.
 *
 * Strings are latin1: one char per octet; code units above 0xff are written as their low octet,
 * as Buffer's latin1 encoding does.
 */
export class HpackEncoder {
  /** The most this encoder uses of whatever the peer allows (memory per connection). */
  private readonly maxCapacity: number;
  /** Maximum table size the peer's decoder has been (or is about to be) told. */
  private capacity: number;
  private size = 0;
  /** Smallest and final size to announce at the start of the next block; -1: no update due. */
  private pendingMin = -1;
  private pendingFinal = -1;
  /** Ring of entries by absolute insertion number k (slot k & mask); alive: [evicted, inserted). */
  private names: string[];
  private values: string[];
  private mask: number;
  private inserted = 0;
  private evicted = 0;
  /** Name → record, for static names once used and for names with dynamic entries. */
  private readonly records = new Map<string, NameRecord>();
  /**
   * Repeated-literal cache: the encoding of recent long literal strings that are not indexed
   * (sensitive values, large values), by string. Those go out again on every request (on an
   * upstream connection, one token per client multiplexed on it), and copying their octets is
   * much cheaper than Huffman-coding them again. A string's hash is computed once and kept by V8,
   * and our decoder hands out the same string object for a repeated literal.
   */
  private readonly literals = new Map<string, Uint8Array>();

  /**
   * @param tableSize the peer's SETTINGS_HEADER_TABLE_SIZE (default 4096).
   * @param maxCapacity the largest dynamic table this encoder uses however much the peer allows
   *   (default 4096, as nghttp2 and haproxy).
   */
  constructor(tableSize = INITIAL_TABLE_SIZE, maxCapacity = INITIAL_TABLE_SIZE) {
    this.maxCapacity = checkSize(maxCapacity, MAX_CAPACITY);
    this.capacity = Math.min(checkSize(tableSize, MAX_SETTING), this.maxCapacity);
    // The peer's decoder starts at 4096 and has to be told about anything else.
    if (this.capacity !== INITIAL_TABLE_SIZE) {
      this.pendingMin = this.capacity;
      this.pendingFinal = this.capacity;
    }
    this.names = new Array<string>(INITIAL_RING_CAPACITY).fill('');
    this.values = new Array<string>(INITIAL_RING_CAPACITY).fill('');
    this.mask = INITIAL_RING_CAPACITY - 1;
  }

  /** Current dynamic table size in octets (RFC 7541 4.1), as the peer's decoder has it after our last block. */
  get tableSize(): number {
    return this.size;
  }

  /**
   * The peer's SETTINGS_HEADER_TABLE_SIZE changed: the next block starts with a dynamic table size update (and the table is evicted down to it). If it shrinks and grows again before the next block, emit the minimum first, then the final (RFC 7541 4.2).
   *
   * Any 32-bit setting is accepted; what is announced and used is min(size, maxCapacity).
   */
  setMaxTableSize(size: number): void {
    const capacity = Math.min(checkSize(size, MAX_SETTING), this.maxCapacity);
    this.capacity = capacity;
    this.evictTo(capacity);
    this.pendingMin = this.pendingMin < 0 ? capacity : Math.min(this.pendingMin, capacity);
    this.pendingFinal = capacity;
  }

  /** Upper bound of encoded bytes for these fields (so the caller can reserve space). */
  maxEncodedLength(fields: readonly string[]): number {
    let length = UPDATES_BOUND;
    for (let i = 0; i < fields.length; i++) length += (fields[i] as string).length;
    return length + (fields.length >>> 1) * FIELD_OVERHEAD_BOUND;
  }

  /**
   * Encodes all fields (`[name0, value0, ...]`) as one header block into out at pos; returns the
   * new pos. Throws RangeError, before changing any state, if `out` has less than
   * maxEncodedLength(fields) octets from pos.
   */
  encodeInto(fields: readonly string[], out: Buffer, pos: number): number {
    if ((fields.length & 1) !== 0) throw new RangeError('fields must be [name, value] pairs');
    if (out.length - pos < this.maxEncodedLength(fields)) {
      throw new RangeError(
        `need up to ${this.maxEncodedLength(fields)} octets at ${pos}, have ${out.length - pos}`,
      );
    }
    if (this.pendingFinal >= 0) {
      if (this.pendingMin < this.pendingFinal) pos = writeInteger(out, pos, this.pendingMin, 0x1f, 0x20);
      pos = writeInteger(out, pos, this.pendingFinal, 0x1f, 0x20);
      this.pendingMin = -1;
      this.pendingFinal = -1;
    }
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i] as string;
      const value = fields[i + 1] as string;
      let record = this.records.get(name);
      if (record === undefined) {
        const info = STATIC_NAME_INFO.get(name);
        if (info !== undefined) {
          record = new NameRecord(info);
          this.records.set(name, record);
        }
      }
      let nameIndex = 0;
      if (record !== undefined) {
        if (record.sensitive) {
          pos = writeInteger(out, pos, record.staticIndex, 0x0f, 0x10);
          pos = this.literal(value, out, pos);
          continue;
        }
        if (record.staticIndex !== 0) {
          const values = record.staticValues;
          const index =
            values === null ? (value.length === 0 ? record.staticIndex : undefined) : values.get(value);
          if (index !== undefined) {
            pos = writeInteger(out, pos, index, 0x7f, 0x80);
            continue;
          }
          nameIndex = record.staticIndex;
        }
        if (record.dynamic.size !== 0) {
          const insertion = record.dynamic.get(value);
          if (insertion !== undefined) {
            pos = writeInteger(out, pos, STATIC_TABLE_LENGTH + this.inserted - insertion, 0x7f, 0x80);
            continue;
          }
          if (nameIndex === 0) nameIndex = STATIC_TABLE_LENGTH + this.inserted - record.latest;
        }
      }
      if (isLearnedNeverIndexed(name)) {
        pos = writeInteger(out, pos, nameIndex, 0x0f, 0x10);
        if (nameIndex === 0) pos = writeString(name, out, pos);
        pos = this.literal(value, out, pos);
        continue;
      }
      const size = name.length + value.length + ENTRY_OVERHEAD;
      if (2 * size > this.capacity) {
        pos = writeInteger(out, pos, nameIndex, 0x0f, 0x00);
        if (nameIndex === 0) pos = writeString(name, out, pos);
        pos = this.literal(value, out, pos);
      } else {
        pos = writeInteger(out, pos, nameIndex, 0x3f, 0x40);
        if (nameIndex === 0) pos = writeString(name, out, pos);
        pos = writeString(value, out, pos);
        this.insert(name, value, size);
      }
    }
    return pos;
  }

  /** Convenience: encodes into a new Buffer. */
  encode(fields: readonly string[]): Buffer {
    const out = Buffer.allocUnsafe(this.maxEncodedLength(fields));
    return out.subarray(0, this.encodeInto(fields, out, 0));
  }

  /** writeString for a value that is not indexed: long ones are cached, they tend to come back. */
  private literal(text: string, out: Buffer, pos: number): number {
    if (text.length < CACHE_MIN_LENGTH || text.length > CACHE_MAX_LENGTH) return writeString(text, out, pos);
    const cached = this.literals.get(text);
    if (cached !== undefined) {
      out.set(cached, pos);
      return pos + cached.length;
    }
    const end = writeString(text, out, pos);
    if (this.literals.size >= CACHE_ENTRIES) {
      // Oldest first: Map keeps insertion order.
      this.literals.delete(this.literals.keys().next().value as string);
    }
    this.literals.set(text, new Uint8Array(out.subarray(pos, end)));
    return end;
  }

  private insert(name: string, value: string, size: number): void {
    this.evictTo(this.capacity - size);
    if (this.inserted - this.evicted === this.names.length) this.grow();
    const insertion = this.inserted++;
    const slot = insertion & this.mask;
    this.names[slot] = name;
    this.values[slot] = value;
    this.size += size;
    // Looked up after evicting: that may just have dropped this name's record.
    let record = this.records.get(name);
    if (record === undefined) {
      record = new NameRecord(STATIC_NAME_INFO.get(name));
      this.records.set(name, record);
    }
    record.dynamic.set(value, insertion);
    record.latest = insertion;
  }

  /** Evicts the oldest entries until the table size is at most `target`. */
  private evictTo(target: number): void {
    while (this.size > target) {
      const insertion = this.evicted++;
      const slot = insertion & this.mask;
      const name = this.names[slot] as string;
      const value = this.values[slot] as string;
      this.names[slot] = '';
      this.values[slot] = '';
      this.size -= name.length + value.length + ENTRY_OVERHEAD;
      const record = this.records.get(name);
      if (record !== undefined && record.dynamic.get(value) === insertion) {
        record.dynamic.delete(value);
        // Records of static names stay (there are few); others would pile up with every new name.
        if (record.dynamic.size === 0 && record.staticIndex === 0) this.records.delete(name);
      }
    }
  }

  /** Doubles the ring; slots are insertion numbers modulo its length, so entries move. */
  private grow(): void {
    const length = this.names.length;
    const names = new Array<string>(2 * length).fill('');
    const values = new Array<string>(2 * length).fill('');
    const mask = 2 * length - 1;
    for (let insertion = this.evicted; insertion < this.inserted; insertion++) {
      names[insertion & mask] = this.names[insertion & this.mask] as string;
      values[insertion & mask] = this.values[insertion & this.mask] as string;
    }
    this.names = names;
    this.values = values;
    this.mask = mask;
  }
}

/** Octets of an integer with a 7-bit prefix (string lengths). */
function lengthOctets(value: number): number {
  let octets = 1;
  if (value >= 0x7f) {
    for (let rest = value - 0x7f; rest >= 0x80; rest >>>= 7) octets++;
    octets++;
  }
  return octets;
}

/** A string literal (RFC 7541 5.2), Huffman-coded when that is shorter. */
function writeString(text: string, out: Buffer, pos: number): number {
  const length = text.length;
  // Huffman-code straight after room for the plain length prefix, giving up as soon as it is not
  // shorter: one pass over the text instead of measuring it first.
  const prefix = lengthOctets(length);
  const start = pos + prefix;
  const end = length === 0 ? -1 : encodeHuffmanWithin(text, out, start, start + length - 1);
  if (end >= 0) {
    const huffmanLength = end - start;
    const huffmanPrefix = lengthOctets(huffmanLength);
    if (huffmanPrefix !== prefix) out.copyWithin(pos + huffmanPrefix, start, end);
    writeInteger(out, pos, huffmanLength, 0x7f, 0x80);
    return pos + huffmanPrefix + huffmanLength;
  }
  pos = writeInteger(out, pos, length, 0x7f, 0x00);
  if (length < 16) {
    for (let i = 0; i < length; i++) out[pos + i] = text.charCodeAt(i);
    return pos + length;
  }
  return pos + out.write(text, pos, length, 'latin1');
}
