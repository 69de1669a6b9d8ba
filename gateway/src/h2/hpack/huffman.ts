import { HpackError } from './hpack-error.js';

/**
 * RFC 7541 Appendix B: `CODES[symbol]` right-aligned in `LENGTHS[symbol]` bits; symbol 256 is EOS.
 * Exported (read-only) for the tests that check it is a complete prefix code.
 */
export const HUFFMAN_CODES: readonly number[] = [
  0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7, 0xfffffe8, 0xffffea,
  0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec, 0xfffffed, 0xfffffee, 0xfffffef,
  0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3, 0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7,
  0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb, 0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa, 0x3fa,
  0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18, 0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x5c,
  0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc, 0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
  0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0,
  0x1ffc, 0x3ffc, 0x22, 0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26, 0x27, 0x6, 0x74, 0x75, 0x28, 0x29,
  0x2a, 0x7, 0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd,
  0xffffffc, 0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9, 0x3fffd6, 0x7fffda,
  0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf, 0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0,
  0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3, 0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6,
  0x7fffe7, 0xffffef, 0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde, 0x7fffea,
  0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec, 0x1fffe0, 0x1fffe1, 0x3fffe0,
  0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef, 0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5,
  0x3fffe6, 0x7ffff1, 0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
  0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed, 0x7fff2, 0x1fffe3,
  0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2, 0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9,
  0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5, 0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7,
  0x1fffe8, 0x7ffff3, 0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
  0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea, 0x7ffffeb,
  0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee, 0x3fffffff,
];
export const HUFFMAN_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28,
  28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7,
  8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19,
  13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13,
  28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21,
  22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23,
  22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25,
  25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
];

const EOS = 256;

/**
 * The code as a binary tree: internal node n has children `CHILDREN[2n]` (bit 0) and
 * `CHILDREN[2n + 1]` (bit 1); a child > 0 is another internal node, a child < 0 is the leaf of
 * symbol `-child - 1`. Node 0 is the root, which is nobody's child, so 0 also means "not built yet".
 * 257 leaves make exactly 256 internal nodes, so a node id fits in a byte.
 */
const CHILDREN = new Int16Array(512);
/** Depth of each internal node, to tell over-long padding from padding that is not all ones. */
const DEPTH = new Uint8Array(256);
/**
 * Internal nodes where a string may end: reached from the root by at most 7 one-bits, which is
 * exactly the valid padding of RFC 7541 5.2 (a prefix of EOS, shorter than a byte).
 */
const ACCEPTING = new Uint8Array(256);

{
  let nodes = 1;
  for (let symbol = 0; symbol <= EOS; symbol++) {
    const code = HUFFMAN_CODES[symbol] as number;
    const length = HUFFMAN_LENGTHS[symbol] as number;
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const slot = 2 * node + ((code >>> bit) & 1);
      if (bit === 0) {
        CHILDREN[slot] = -symbol - 1;
      } else {
        if (CHILDREN[slot] === 0) {
          DEPTH[nodes] = length - bit;
          CHILDREN[slot] = nodes++;
        }
        node = CHILDREN[slot] as number;
      }
    }
  }
  let node = 0;
  ACCEPTING[0] = 1;
  for (let depth = 1; depth <= 7; depth++) {
    node = CHILDREN[2 * node + 1] as number;
    ACCEPTING[node] = 1;
  }
}

/** Count field of a DECODE entry meaning "EOS was decoded": a decoding error. */
const FAILED = 3;

/**
 * Byte-at-a-time decoding automaton (the 8-bit variant of nghttp2's 4-bit one): the state is the
 * internal node reached after the previous bytes. `DECODE[state << 8 | byte]` packs the next state
 * (bits 0-7), up to two emitted symbols (bits 8-15 and 16-23; codes are at least 5 bits long, so a
 * byte completes at most two) and their count (bits 24-25, FAILED for EOS). 256 KiB, built once,
 * in a few milliseconds; the states that real text visits are few, so the hot part stays in cache.
 */
const DECODE = new Uint32Array(256 * 256);

for (let state = 0; state < 256; state++) {
  for (let byte = 0; byte < 256; byte++) {
    let node = state;
    let count = 0;
    let symbols = 0;
    for (let bit = 7; bit >= 0; bit--) {
      const next = CHILDREN[2 * node + ((byte >>> bit) & 1)] as number;
      if (next >= 0) {
        node = next;
        continue;
      }
      const symbol = -next - 1;
      if (symbol === EOS) {
        count = FAILED;
        break;
      }
      symbols |= symbol << (8 * count);
      count++;
      node = 0;
    }
    DECODE[(state << 8) | byte] = count === FAILED ? FAILED << 24 : node | (symbols << 8) | (count << 24);
  }
}

/** Decoded octets land here before becoming a string; grown on demand, never shrunk. */
let scratch = Buffer.allocUnsafeSlow(4096);

/**
 * Decodes `buf[start, end)` into `scratch` and returns the decoded length. Throws HpackError on
 * EOS inside the string and on padding that is longer than 7 bits or not all ones (RFC 7541 5.2).
 */
function decodeToScratch(buf: Buffer, start: number, end: number): number {
  // Every code is at least 5 bits long, which bounds the output and spares a check per octet.
  const bound = Math.floor(((end - start) * 8) / 5);
  if (bound > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(bound, 2 * scratch.length));
  const out = scratch;
  let state = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const entry = DECODE[(state << 8) | (buf[i] as number)] as number;
    const count = entry >>> 24;
    if (count !== 0) {
      if (count === 1) {
        out[n++] = entry >>> 8;
      } else if (count === 2) {
        out[n++] = entry >>> 8;
        out[n++] = entry >>> 16;
      } else {
        throw new HpackError('EOS symbol inside a Huffman-coded string');
      }
    }
    state = entry & 0xff;
  }
  if (ACCEPTING[state] === 0) {
    throw new HpackError(
      (DEPTH[state] as number) > 7
        ? 'Huffman padding longer than 7 bits'
        : 'Huffman padding is not a prefix of EOS (all ones)',
    );
  }
  return n;
}

/**
 * Decodes the Huffman-coded string `buf[start, end)` (RFC 7541 5.2) to a latin1 string (one char
 * per octet). Throws HpackError on EOS inside the string and on padding that is longer than 7 bits
 * or not all ones.
 */
export function decodeHuffman(buf: Buffer, start: number, end: number): string {
  if (start === end) return '';
  const length = decodeToScratch(buf, start, end);
  return scratch.toString('latin1', 0, length);
}

/**
 * Validates the Huffman-coded string `buf[start, end)` like decodeHuffman and returns its decoded
 * length without building the string (for fields past the header list size limit).
 */
export function huffmanDecodedLength(buf: Buffer, start: number, end: number): number {
  return decodeToScratch(buf, start, end);
}

const ENCODE_CODES = Uint32Array.from(HUFFMAN_CODES.slice(0, 256));
const ENCODE_LENGTHS = Uint8Array.from(HUFFMAN_LENGTHS.slice(0, 256));

/**
 * Octets `text` takes once Huffman-coded, padding included. Code units above 0xff count as their
 * low octet, as Buffer's latin1 encoding writes them.
 */
export function huffmanEncodedLength(text: string): number {
  let bits = 0;
  for (let i = 0; i < text.length; i++) bits += ENCODE_LENGTHS[text.charCodeAt(i) & 0xff] as number;
  return Math.floor((bits + 7) / 8);
}

/**
 * Huffman-codes `text` (latin1; code units above 0xff count as their low octet) into `out` at
 * `pos`, pads with ones and returns the new position. `out` must have room for
 * huffmanEncodedLength(text) octets (RangeError otherwise).
 */
export function encodeHuffman(text: string, out: Buffer, pos: number): number {
  const end = encodeHuffmanWithin(text, out, pos, out.length);
  if (end < 0) throw new RangeError(`no room for ${huffmanEncodedLength(text)} octets at ${pos}`);
  return end;
}

/**
 * Like encodeHuffman, but gives up and returns -1 as soon as the code would not fit in
 * `out[pos, limit)`. With `limit` = pos + text.length - 1 this both tells whether Huffman coding
 * is shorter and writes it in one pass, which is what the encoder does.
 */
export function encodeHuffmanWithin(text: string, out: Buffer, pos: number, limit: number): number {
  // `acc` keeps the `bits` (< 8) not yet written in its low bits; shifting in a code of up to 24
  // bits keeps all live bits within 31, and older bits falling off the top are already written.
  // The rare longer codes (control and high octets) go in as two halves.
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const symbol = text.charCodeAt(i) & 0xff;
    let code = ENCODE_CODES[symbol] as number;
    let length = ENCODE_LENGTHS[symbol] as number;
    if (length > 24) {
      acc = (acc << (length - 16)) | (code >>> 16);
      bits += length - 16;
      while (bits >= 8) {
        if (pos >= limit) return -1;
        bits -= 8;
        out[pos++] = acc >>> bits;
      }
      code &= 0xffff;
      length = 16;
    }
    acc = (acc << length) | code;
    bits += length;
    while (bits >= 8) {
      if (pos >= limit) return -1;
      bits -= 8;
      out[pos++] = acc >>> bits;
    }
  }
  if (bits > 0) {
    if (pos >= limit) return -1;
    out[pos++] = (acc << (8 - bits)) | (0xff >>> bits);
  }
  return pos;
}
