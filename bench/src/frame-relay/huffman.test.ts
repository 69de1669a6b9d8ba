import { describe, expect, it } from 'vitest';
import { decodeHuffman, HUFFMAN_CODE } from './huffman.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const decode = (text: string) => {
  const buf = hex(text);
  return decodeHuffman(buf, 0, buf.length);
};

describe('the RFC 7541 Appendix B code', () => {
  it('is a complete prefix code over 257 symbols (Kraft sum exactly 1)', () => {
    expect(HUFFMAN_CODE.codes).toHaveLength(257);
    expect(HUFFMAN_CODE.lengths).toHaveLength(257);
    const sum = HUFFMAN_CODE.lengths.reduce((total, length) => total + 2 ** (30 - length), 0);
    expect(sum).toBe(2 ** 30);
  });
});

describe('decodeHuffman', () => {
  it.each([
    ['f1e3 c2e5 f23a 6ba0 ab90 f4ff', 'www.example.com'],
    ['a8eb 1064 9cbf', 'no-cache'],
    ['25a8 49e9 5ba9 7d7f', 'custom-key'],
    ['25a8 49e9 5bb8 e8b4 bf', 'custom-value'],
  ])('decodes the RFC 7541 C.4 string %s', (encoded, text) => {
    expect(decode(encoded)).toBe(text);
  });

  it('decodes the empty string', () => {
    expect(decode('')).toBe('');
  });

  it('rejects padding that is not all ones', () => {
    // "0" is the 5-bit code 00000; three zero bits of padding follow.
    expect(() => decode('00')).toThrow('invalid Huffman padding');
  });

  it('rejects padding longer than 7 bits', () => {
    expect(() => decode('ff')).toThrow('invalid Huffman padding');
  });
});
