/**
 * A deliberately naive HPACK decoder, written straight from RFC 7541 with the same limits as
 * HpackDecoder (integers below 2^31 in at most 5 continuation octets, at most two size updates,
 * an update required after our limit drops): the oracle of the differential fuzz test. Arrays with
 * unshift/pop for the table, bit-by-bit Huffman through a code → symbol map.
 */
import { HUFFMAN_CODES, HUFFMAN_LENGTHS } from '../huffman.js';
import { STATIC_NAMES, STATIC_VALUES } from '../static-table.js';

const SYMBOLS = new Map<string, number>(
  HUFFMAN_CODES.map((code, symbol) => [`${HUFFMAN_LENGTHS[symbol]}:${code}`, symbol]),
);

export class ReferenceDecoder {
  /** Newest first. */
  table: [string, string][] = [];
  capacity: number;
  updateRequired: boolean;

  constructor(
    private readonly limit = 4096,
    private readonly maxListSize = 65536,
  ) {
    this.capacity = Math.min(limit, 4096);
    this.updateRequired = limit < 4096;
  }

  get tableSize(): number {
    return this.table.reduce((sum, [name, value]) => sum + name.length + value.length + 32, 0);
  }

  /** Decodes a block; throws a plain Error on any malformation. */
  decode(block: Buffer): { fields: string[]; size: number } {
    let pos = 0;
    const fail = (why: string): never => {
      throw new Error(why);
    };
    const integer = (prefixBits: number): number => {
      if (pos >= block.length) fail('truncated');
      const max = 2 ** prefixBits - 1;
      let value = (block[pos++] as number) % 2 ** prefixBits;
      if (value < max) return value;
      for (let i = 0; i < 5; i++) {
        if (pos >= block.length) fail('truncated integer');
        const octet = block[pos++] as number;
        value += (octet % 128) * 128 ** i;
        if (value > 2 ** 31 - 1) fail('too large');
        if (octet < 128) return value;
      }
      return fail('too long');
    };
    const string = (): string => {
      if (pos >= block.length) fail('truncated');
      const huffman = (block[pos] as number) >= 128;
      const length = integer(7);
      if (pos + length > block.length) fail('past the end');
      const octets = block.subarray(pos, pos + length);
      pos += length;
      if (!huffman) return octets.toString('latin1');
      let text = '';
      let code = 0;
      let bits = 0;
      for (const octet of octets) {
        for (let bit = 7; bit >= 0; bit--) {
          code = code * 2 + ((octet >> bit) & 1);
          bits++;
          const symbol = SYMBOLS.get(`${bits}:${code}`);
          if (symbol === 256) fail('EOS');
          if (symbol !== undefined) {
            text += String.fromCharCode(symbol);
            code = 0;
            bits = 0;
          }
        }
      }
      if (bits > 7 || code !== 2 ** bits - 1) fail('bad padding');
      return text;
    };
    const entry = (index: number): [string, string] => {
      if (index === 0) fail('index 0');
      if (index <= 61) return [STATIC_NAMES[index] as string, STATIC_VALUES[index] as string];
      return this.table[index - 62] ?? fail('no such index');
    };
    const evict = () => {
      while (this.tableSize > this.capacity) this.table.pop();
    };
    const fields: string[] = [];
    let size = 0;
    let seenField = false;
    let updates = 0;
    while (pos < block.length) {
      const first = block[pos] as number;
      if (first >= 0x20 && first < 0x40) {
        if (seenField) fail('update after a field');
        if (++updates > 2) fail('three updates');
        const capacity = integer(5);
        if (capacity > this.limit) fail('update above the limit');
        this.capacity = capacity;
        this.updateRequired = false;
        evict();
        continue;
      }
      let name: string;
      let value: string;
      if (first >= 0x80) {
        [name, value] = entry(integer(7));
      } else {
        const index = integer(first >= 0x40 ? 6 : 4);
        name = index === 0 ? string() : entry(index)[0];
        value = string();
        if (first >= 0x40) {
          this.table.unshift([name, value]);
          if (name.length + value.length + 32 > this.capacity) this.table = [];
          evict();
        }
      }
      if (this.updateRequired) fail('update required');
      seenField = true;
      size += name.length + value.length + 32;
      if (size <= this.maxListSize) fields.push(name, value);
    }
    return { fields, size };
  }
}
