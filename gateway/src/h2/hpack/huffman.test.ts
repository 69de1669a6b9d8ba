import { describe, expect, it } from 'vitest';
import { HpackError } from './hpack-error.js';
import {
  decodeHuffman,
  encodeHuffman,
  HUFFMAN_CODES,
  HUFFMAN_LENGTHS,
  huffmanDecodedLength,
  huffmanEncodedLength,
} from './huffman.js';
import { hex, prng, randomString } from './test-support/hpack-test-utils.js';

function encode(text: string): Buffer {
  const out = Buffer.alloc(huffmanEncodedLength(text) + 8, 0xaa);
  const end = encodeHuffman(text, out, 3);
  expect(end - 3).toBe(huffmanEncodedLength(text));
  return out.subarray(3, end);
}

function roundTrip(text: string): string {
  const encoded = encode(text);
  // Decode from the middle of a larger buffer to check that offsets are honoured.
  const padded = Buffer.concat([Buffer.from([0x00, 0xff]), encoded, Buffer.from([0x00, 0xff])]);
  return decodeHuffman(padded, 2, 2 + encoded.length);
}

function decodeHex(text: string): string {
  const buf = hex(text);
  return decodeHuffman(buf, 0, buf.length);
}

/** Strings from the RFC 7541 C.4 and C.6 examples with their Huffman encodings. */
const RFC_STRINGS: readonly (readonly [string, string])[] = [
  ['f1e3 c2e5 f23a 6ba0 ab90 f4ff', 'www.example.com'],
  ['a8eb 1064 9cbf', 'no-cache'],
  ['25a8 49e9 5ba9 7d7f', 'custom-key'],
  ['25a8 49e9 5bb8 e8b4 bf', 'custom-value'],
  ['6402', '302'],
  ['aec3 771a 4b', 'private'],
  ['d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff', 'Mon, 21 Oct 2013 20:13:21 GMT'],
  ['9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3', 'https://www.example.com'],
  ['640e ff', '307'],
  ['d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff', 'Mon, 21 Oct 2013 20:13:22 GMT'],
  ['9bd9 ab', 'gzip'],
  [
    '94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
    'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
  ],
];

describe('the RFC 7541 Appendix B code', () => {
  it('is a complete prefix code over 257 symbols (Kraft sum exactly 1)', () => {
    expect(HUFFMAN_CODES).toHaveLength(257);
    expect(HUFFMAN_LENGTHS).toHaveLength(257);
    const sum = HUFFMAN_LENGTHS.reduce((total, length) => total + 2 ** (30 - length), 0);
    expect(sum).toBe(2 ** 30);
    expect(HUFFMAN_CODES[256]).toBe(0x3fffffff);
    expect(HUFFMAN_LENGTHS[256]).toBe(30);
  });
});

describe('Huffman coding', () => {
  it.each(RFC_STRINGS)('decodes and re-encodes the RFC 7541 Appendix C string %s', (encoded, text) => {
    expect(decodeHex(encoded)).toBe(text);
    expect(encode(text).equals(hex(encoded))).toBe(true);
  });

  it('round-trips every single octet, alone and with every padding length', () => {
    for (let symbol = 0; symbol < 256; symbol++) {
      const char = String.fromCharCode(symbol);
      for (let repeat = 1; repeat <= 8; repeat++) {
        const text = `${char.repeat(repeat)}a${char}`;
        expect(roundTrip(text), `symbol ${symbol} x${repeat}`).toBe(text);
      }
      expect(roundTrip(char)).toBe(char);
    }
  });

  it('round-trips random strings (seed 7541)', () => {
    const random = prng(7541);
    const headerish = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:;=, ';
    for (let i = 0; i < 2000; i++) {
      const text = randomString(random, random(300), i % 2 === 0 ? undefined : headerish);
      const encoded = encode(text);
      expect(decodeHuffman(encoded, 0, encoded.length), `case ${i}`).toBe(text);
      expect(huffmanDecodedLength(encoded, 0, encoded.length)).toBe(text.length);
    }
  });

  it('decodes the empty string', () => {
    expect(decodeHuffman(Buffer.alloc(4), 2, 2)).toBe('');
    expect(huffmanEncodedLength('')).toBe(0);
    expect(encodeHuffman('', Buffer.alloc(0), 0)).toBe(0);
  });

  it('encodes code units above 0xff as their low octet, like Buffer latin1', () => {
    expect(roundTrip('\u0161x')).toBe('\u0061x');
  });

  it('grows its scratch space for long strings', () => {
    const text = randomString(prng(1), 20_000);
    expect(roundTrip(text)).toBe(text);
  });
});

describe('Huffman decoding errors', () => {
  const cases: readonly (readonly [string, string, RegExp])[] = [
    ['padding that is not all ones', '00', /not a prefix of EOS/],
    ['zero padding after a full symbol', '18', /not a prefix of EOS/],
    ['padding longer than 7 bits', 'ff', /longer than 7 bits/],
    ['a whole octet of padding after a symbol', '1fff', /longer than 7 bits/],
    ['EOS inside the string', 'ffff ffff', /EOS/],
    ['EOS followed by more symbols', 'ffff fffc 1f', /EOS/],
    ['a long code cut off in the middle', 'ffff', /longer than 7 bits/],
  ];

  it.each(cases)('rejects %s with HpackError', (_what, encoded, message) => {
    const buf = hex(encoded);
    expect(() => decodeHuffman(buf, 0, buf.length)).toThrow(HpackError);
    expect(() => decodeHuffman(buf, 0, buf.length)).toThrow(message);
    expect(() => huffmanDecodedLength(buf, 0, buf.length)).toThrow(HpackError);
  });

  it('accepts exactly 7 bits of padding', () => {
    // Five '0' (00000) are 25 bits, so 7 one-bits complete the fourth octet.
    expect(decodeHex('0000 007f')).toBe('00000');
    expect(encode('00000').equals(hex('0000 007f'))).toBe(true);
  });
});
