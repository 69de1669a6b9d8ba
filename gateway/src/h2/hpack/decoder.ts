import { HpackError } from './hpack-error.js';
import { decodeHuffman, huffmanDecodedLength } from './huffman.js';
import { noteNeverIndexed } from './never-indexed.js';
import { STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES } from './static-table.js';

/** Options of an HpackDecoder. */
export interface HpackDecoderOptions {
  /** SETTINGS_HEADER_TABLE_SIZE we advertised: the largest table size update the peer may send. Default 4096. */
  readonly maxTableSize?: number;
  /** Decoded header list size (RFC 9113 6.5.2: name + value octets + 32 per field) above which fields stop being materialized. Default 65536. */
  readonly maxHeaderListSize?: number;
  /**
   * Size of one field (name + value octets + 32) above which the block is refused with HpackError:
   * a field no header list could hold is treated as a decoding failure (as nghttp2 does), while a
   * list that is merely too long stays a per-stream answer. Default: no bound.
   */
  readonly maxFieldSize?: number;
}

/** The dynamic table size both ends start with (RFC 9113 6.5.2, initial SETTINGS_HEADER_TABLE_SIZE). */
const INITIAL_TABLE_SIZE = 4096;
/** Per-entry overhead of RFC 7541 4.1, also used by RFC 9113 6.5.2 for the header list size. */
const ENTRY_OVERHEAD = 32;
/**
 * Largest integer accepted anywhere in a block. Nothing legitimate comes close (indices and string
 * lengths are bounded by the block, table sizes by our setting), and staying below 2^31 keeps
 * every later computation in small-integer arithmetic.
 */
const MAX_INTEGER = 0x7fffffff;
/** An integer may take this many continuation octets after its prefix; 5 already hold 35 bits. */
const MAX_CONTINUATION_OCTETS = 5;
/** RFC 7541 4.2 allows the smallest and then the final size: more in one block is malformed. */
const MAX_SIZE_UPDATES = 2;
/** Initial ring capacity (power of two); grows by doubling, so inserts stay amortized O(1). */
const INITIAL_RING_CAPACITY = 32;
/** Huffman strings at least this long go through the repeated-literal cache (see decodeLiteralHuffman). */
const CACHE_MIN_OCTETS = 24;
/** And at most this long: bounds the per-connection memory the cache keeps. */
const CACHE_MAX_OCTETS = 1024;
/** Slots of the repeated-literal cache (power of two), so e.g. authorization and cookie do not thrash. */
const CACHE_SLOTS = 4;

/** SETTINGS values are 32-bit. */
const MAX_SETTING = 0xffffffff;

function checkSize(size: number, what: string): number {
  if (!Number.isInteger(size) || size < 0 || size > MAX_SETTING) {
    throw new RangeError(`${what} must be an integer in [0, ${MAX_SETTING}], got ${size}`);
  }
  return size;
}

/**
 * HPACK decoder (RFC 7541) for the header blocks one peer sends on one connection. It keeps that
 * peer's dynamic table, so every block of the connection must go through it, in order, whole
 * (HEADERS plus its CONTINUATION frames concatenated), including blocks of streams that are
 * refused or reset.
 *
 * Any malformation throws HpackError and leaves the table in an unspecified state: the
 * connection must end with COMPRESSION_ERROR.
 */
export class HpackDecoder {
  /** Largest size the peer may set with a size update (our acknowledged setting). */
  private limit: number;
  /** Current maximum table size, as set by the peer's last size update (RFC 7541 4.2). */
  private capacity: number;
  private readonly maxHeaderListSize: number;
  private readonly maxFieldSize: number;
  /** Set when our setting dropped below the table's current size: the next block must start with an update. */
  private updateRequired: boolean;
  private size = 0;
  /**
   * The dynamic table as a ring: the oldest entry is at `first`, the newest at
   * `(first + count - 1) & mask`. Free slots hold '' so the arrays stay packed strings.
   */
  private names: string[];
  private values: string[];
  private mask: number;
  private first = 0;
  private count = 0;
  /** Position after the last integer or string read by the helpers below. */
  private pos = 0;
  /**
   * Repeated-literal cache: the encoded octets and the decoded string of recent long
   * Huffman-coded literals that were not added to the table. Those are the fields a peer sends
   * again and again without indexing (authorization, cookies, large values); a match costs an
   * octet comparison instead of a Huffman decode and hands out the same string object again.
   */
  private readonly cacheOctets: (Buffer | null)[] = [];
  private readonly cacheLengths: number[] = [];
  private readonly cacheStrings: string[] = [];

  /**
   * The table starts at the protocol's 4096 octets (or maxTableSize if smaller). A maxTableSize
   * below 4096 is taken as already acknowledged: the peer's first block must then start with a
   * size update. If it is only being advertised, construct with the default and call
   * setMaxTableSize when the SETTINGS ACK arrives, since the peer may send blocks before that.
   */
  constructor(options: HpackDecoderOptions = {}) {
    this.limit = checkSize(options.maxTableSize ?? INITIAL_TABLE_SIZE, 'maxTableSize');
    this.maxHeaderListSize = checkSize(options.maxHeaderListSize ?? 65536, 'maxHeaderListSize');
    this.maxFieldSize = options.maxFieldSize ?? Number.POSITIVE_INFINITY;
    // The peer starts from the protocol's 4096; if we allow less it has to say so first.
    this.capacity = Math.min(this.limit, INITIAL_TABLE_SIZE);
    this.updateRequired = this.limit < INITIAL_TABLE_SIZE;
    this.names = new Array<string>(INITIAL_RING_CAPACITY).fill('');
    this.values = new Array<string>(INITIAL_RING_CAPACITY).fill('');
    this.mask = INITIAL_RING_CAPACITY - 1;
    for (let i = 0; i < CACHE_SLOTS; i++) {
      this.cacheOctets.push(null);
      this.cacheLengths.push(0);
      this.cacheStrings.push('');
    }
  }

  /** Current dynamic table size in octets (RFC 7541 4.1). */
  get tableSize(): number {
    return this.size;
  }

  /**
   * Changes the table size limit (after our new SETTINGS_HEADER_TABLE_SIZE was acknowledged). If
   * it is below the table's current maximum size, the table shrinks now and the peer's next block
   * must start with a size update (RFC 7541 4.2), as nghttp2 requires too.
   */
  setMaxTableSize(size: number): void {
    this.limit = checkSize(size, 'maxTableSize');
    if (size < this.capacity) {
      this.capacity = size;
      this.evictTo(size);
      this.updateRequired = true;
    }
  }

  /**
   * Decodes one complete header block buf[start,end) and appends fields to `out`.
   * Returns the decoded header list size. If that size exceeds maxHeaderListSize, decoding still
   * runs to the end (the dynamic table must stay in sync with the peer) but fields are no longer
   * appended once the limit is passed; the caller compares the return value with the limit.
   * Throws HpackError on every malformation.
   */
  decode(buf: Buffer, start: number, end: number, out: string[]): number {
    if (!(start >= 0 && start <= end && end <= buf.length)) {
      throw new RangeError(`block [${start}, ${end}) is not within a buffer of ${buf.length} octets`);
    }
    const maxListSize = this.maxHeaderListSize;
    let listSize = 0;
    let fields = false;
    let updates = 0;
    let pos = start;
    while (pos < end) {
      const first = buf[pos++] as number;
      let name: string;
      let value: string;
      if (first >= 0x80) {
        // Indexed field (6.1): the steady state of a warmed connection, kept tight.
        let index = first & 0x7f;
        if (index === 0x7f) {
          this.pos = pos;
          index = this.integerTail(buf, end, 0x7f);
          pos = this.pos;
        }
        if (index <= STATIC_TABLE_LENGTH) {
          if (index === 0) throw new HpackError('indexed field with index 0');
          name = STATIC_NAMES[index] as string;
          value = STATIC_VALUES[index] as string;
        } else {
          const slot = this.dynamicSlot(index);
          name = this.names[slot] as string;
          value = this.values[slot] as string;
        }
      } else if (first >= 0x40) {
        // Literal with incremental indexing (6.2.1): always materialized, the table needs it.
        this.pos = pos;
        const index = first === 0x7f ? this.integerTail(buf, end, 0x3f) : first & 0x3f;
        name = index === 0 ? this.string(buf, end) : this.nameOf(index);
        value = this.string(buf, end);
        pos = this.pos;
        this.insert(name, value);
      } else if (first >= 0x20) {
        // Dynamic table size update (6.3).
        if (fields) throw new HpackError('dynamic table size update after a field representation');
        if (++updates > MAX_SIZE_UPDATES) throw new HpackError('more than two dynamic table size updates');
        this.pos = pos;
        const size = first === 0x3f ? this.integerTail(buf, end, 0x1f) : first & 0x1f;
        pos = this.pos;
        if (size > this.limit) {
          throw new HpackError(`dynamic table size update to ${size} above the limit ${this.limit}`);
        }
        this.capacity = size;
        this.evictTo(size);
        this.updateRequired = false;
        continue;
      } else {
        // Literal without indexing (6.2.2) or never indexed (6.2.3): not added to the table, so
        // once past the limit they are only validated and measured, never built.
        this.pos = pos;
        const index = (first & 0x0f) === 0x0f ? this.integerTail(buf, end, 0x0f) : first & 0x0f;
        if (!fields && this.updateRequired) throw this.missingUpdate();
        if (listSize > maxListSize) {
          const skipped =
            (index === 0 ? this.skipString(buf, end) : this.nameOf(index).length) +
            this.skipString(buf, end) +
            ENTRY_OVERHEAD;
          if (skipped > this.maxFieldSize) throw this.fieldTooLarge(skipped);
          listSize += skipped;
          pos = this.pos;
          fields = true;
          continue;
        }
        name = index === 0 ? this.string(buf, end) : this.nameOf(index);
        value = this.literalValue(buf, end);
        pos = this.pos;
        if ((first & 0x10) !== 0) noteNeverIndexed(name);
      }
      if (!fields) {
        if (this.updateRequired) throw this.missingUpdate();
        fields = true;
      }
      const fieldSize = name.length + value.length + ENTRY_OVERHEAD;
      if (fieldSize > this.maxFieldSize) throw this.fieldTooLarge(fieldSize);
      listSize += fieldSize;
      if (listSize <= maxListSize) out.push(name, value);
    }
    return listSize;
  }

  private fieldTooLarge(size: number): HpackError {
    return new HpackError(`header field of ${size} octets is larger than the ${this.maxFieldSize} allowed`);
  }

  private missingUpdate(): HpackError {
    return new HpackError(`header block does not start with a table size update to at most ${this.limit}`);
  }

  /**
   * Rest of an integer (RFC 7541 5.1) whose prefix octet is all ones (`prefix` = its value),
   * continuing at `this.pos`; leaves `this.pos` after it.
   */
  private integerTail(buf: Buffer, end: number, prefix: number): number {
    let pos = this.pos;
    let value = prefix;
    let weight = 1;
    for (let i = 0; i < MAX_CONTINUATION_OCTETS; i++) {
      if (pos >= end) throw new HpackError('truncated integer');
      const octet = buf[pos++] as number;
      value += (octet & 0x7f) * weight;
      if (value > MAX_INTEGER) throw new HpackError('integer too large');
      if (octet < 0x80) {
        this.pos = pos;
        return value;
      }
      weight *= 128;
    }
    throw new HpackError('integer with too many continuation octets');
  }

  /** Reads a string's header (5.2) at `this.pos`: returns its length, leaves `this.pos` at its octets. */
  private stringLength(buf: Buffer, end: number): number {
    if (this.pos >= end) throw new HpackError('truncated field: string expected');
    const first = buf[this.pos++] as number;
    const length = (first & 0x7f) === 0x7f ? this.integerTail(buf, end, 0x7f) : first & 0x7f;
    if (length > end - this.pos) throw new HpackError('string runs past the end of the header block');
    return length;
  }

  /** Reads a string literal (5.2) at `this.pos`. */
  private string(buf: Buffer, end: number): string {
    const huffman = (buf[this.pos] as number) >= 0x80;
    const length = this.stringLength(buf, end);
    const from = this.pos;
    this.pos += length;
    if (length === 0) return '';
    return huffman ? decodeHuffman(buf, from, this.pos) : buf.toString('latin1', from, this.pos);
  }

  /** Like string(), for the value of a literal that is not added to the table. */
  private literalValue(buf: Buffer, end: number): string {
    const huffman = (buf[this.pos] as number) >= 0x80;
    const length = this.stringLength(buf, end);
    const from = this.pos;
    this.pos += length;
    if (length === 0) return '';
    if (!huffman) return buf.toString('latin1', from, this.pos);
    if (length < CACHE_MIN_OCTETS || length > CACHE_MAX_OCTETS) return decodeHuffman(buf, from, this.pos);
    return this.decodeLiteralHuffman(buf, from, length);
  }

  private decodeLiteralHuffman(buf: Buffer, from: number, length: number): string {
    const slot = length & (CACHE_SLOTS - 1);
    const cached = this.cacheOctets[slot] as Buffer | null;
    if (
      cached !== null &&
      this.cacheLengths[slot] === length &&
      buf.compare(cached, 0, length, from, from + length) === 0
    ) {
      return this.cacheStrings[slot] as string;
    }
    // Decoding first means a malformed string never enters the cache.
    const text = decodeHuffman(buf, from, from + length);
    let octets = cached;
    if (octets === null || octets.length < length) {
      octets = Buffer.allocUnsafeSlow(Math.max(length, 256));
      this.cacheOctets[slot] = octets;
    }
    buf.copy(octets, 0, from, from + length);
    this.cacheLengths[slot] = length;
    this.cacheStrings[slot] = text;
    return text;
  }

  /** Validates and steps over a string literal at `this.pos`; returns its decoded length. */
  private skipString(buf: Buffer, end: number): number {
    const huffman = (buf[this.pos] as number) >= 0x80;
    const length = this.stringLength(buf, end);
    const from = this.pos;
    this.pos += length;
    return huffman && length > 0 ? huffmanDecodedLength(buf, from, this.pos) : length;
  }

  /** Name of a (non-zero) static or dynamic index. */
  private nameOf(index: number): string {
    if (index <= STATIC_TABLE_LENGTH) return STATIC_NAMES[index] as string;
    return this.names[this.dynamicSlot(index)] as string;
  }

  /** Ring slot of HPACK index `index` (> 61); throws if the table has no such entry. */
  private dynamicSlot(index: number): number {
    const age = index - STATIC_TABLE_LENGTH;
    if (age > this.count) {
      throw new HpackError(`index ${index} beyond the dynamic table (${this.count} entries)`);
    }
    return (this.first + this.count - age) & this.mask;
  }

  /** Adds an entry, evicting as RFC 7541 4.4 says; one larger than the table only empties it. */
  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.capacity) {
      this.evictTo(0);
      return;
    }
    this.evictTo(this.capacity - size);
    if (this.count === this.names.length) this.grow();
    const slot = (this.first + this.count) & this.mask;
    this.names[slot] = name;
    this.values[slot] = value;
    this.count++;
    this.size += size;
  }

  /** Evicts the oldest entries until the table size is at most `target`. */
  private evictTo(target: number): void {
    while (this.size > target) {
      const slot = this.first;
      this.size -=
        (this.names[slot] as string).length + (this.values[slot] as string).length + ENTRY_OVERHEAD;
      this.names[slot] = '';
      this.values[slot] = '';
      this.first = (slot + 1) & this.mask;
      this.count--;
    }
  }

  /** Doubles the ring, unrolling it so the oldest entry lands in slot 0. */
  private grow(): void {
    const length = this.names.length;
    const names = new Array<string>(2 * length).fill('');
    const values = new Array<string>(2 * length).fill('');
    for (let i = 0; i < this.count; i++) {
      const slot = (this.first + i) & this.mask;
      names[i] = this.names[slot] as string;
      values[i] = this.values[slot] as string;
    }
    this.names = names;
    this.values = values;
    this.first = 0;
    this.mask = 2 * length - 1;
  }
}
