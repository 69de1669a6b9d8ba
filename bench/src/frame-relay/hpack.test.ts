import { describe, expect, it } from 'vitest';
import { HpackDecoder, HpackEncoder } from './hpack.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const decodeWith = (decoder: HpackDecoder, text: string) => {
  const buf = hex(text);
  return decoder.decode(buf, 0, buf.length);
};
const literal = (name: string, value: string) =>
  Buffer.concat([
    Buffer.from([0x40, name.length]),
    Buffer.from(name),
    Buffer.from([value.length]),
    Buffer.from(value),
  ]);

describe('HpackDecoder', () => {
  it('decodes the RFC 7541 C.3 request sequence (plain strings, shared dynamic table)', () => {
    const decoder = new HpackDecoder();
    expect(decodeWith(decoder, '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d')).toEqual([
      ':method',
      'GET',
      ':scheme',
      'http',
      ':path',
      '/',
      ':authority',
      'www.example.com',
    ]);
    expect(decodeWith(decoder, '8286 84be 5808 6e6f 2d63 6163 6865')).toEqual([
      ':method',
      'GET',
      ':scheme',
      'http',
      ':path',
      '/',
      ':authority',
      'www.example.com',
      'cache-control',
      'no-cache',
    ]);
    expect(
      decodeWith(decoder, '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65'),
    ).toEqual([
      ':method',
      'GET',
      ':scheme',
      'https',
      ':path',
      '/index.html',
      ':authority',
      'www.example.com',
      'custom-key',
      'custom-value',
    ]);
  });

  it('decodes the RFC 7541 C.4 request sequence (Huffman strings)', () => {
    const decoder = new HpackDecoder();
    expect(decodeWith(decoder, '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff').at(-1)).toBe('www.example.com');
    expect(decodeWith(decoder, '8286 84be 5886 a8eb 1064 9cbf').slice(-2)).toEqual([
      'cache-control',
      'no-cache',
    ]);
    expect(
      decodeWith(decoder, '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf').slice(-4),
    ).toEqual([':authority', 'www.example.com', 'custom-key', 'custom-value']);
  });

  it('evicts the oldest entries when the table is full', () => {
    // Each entry is 1 + 1 + 32 = 34 octets; a 100-octet table holds two.
    const decoder = new HpackDecoder(100);
    const block = Buffer.concat([literal('a', '1'), literal('b', '2'), literal('c', '3')]);
    decoder.decode(block, 0, block.length);
    // Index 62 is the newest (c), 63 is b; a was evicted.
    expect(decodeWith(decoder, 'be bf')).toEqual(['c', '3', 'b', '2']);
    expect(() => decodeWith(decoder, 'c0')).toThrow('beyond the dynamic table');
  });

  it('applies a dynamic table size update', () => {
    const decoder = new HpackDecoder();
    const block = literal('a', '1');
    decoder.decode(block, 0, block.length);
    // 001 00000: size 0 empties the table.
    expect(decodeWith(decoder, '20')).toEqual([]);
    expect(() => decodeWith(decoder, 'be')).toThrow('beyond the dynamic table');
    expect(() => decodeWith(decoder, '3f e2 1f')).toThrow('table size update 4097 above 4096');
  });

  it('decodes multi-byte integers', () => {
    const decoder = new HpackDecoder();
    // Literal without indexing, new name of 130 octets: length 130 = 127 + 3 → 7f 03.
    const name = 'n'.repeat(130);
    const block = Buffer.concat([
      Buffer.from([0x00, 0x7f, 0x03]),
      Buffer.from(name),
      Buffer.from([0x01]),
      Buffer.from('v'),
    ]);
    expect(decoder.decode(block, 0, block.length)).toEqual([name, 'v']);
  });
});

describe('HpackEncoder', () => {
  const request = [
    ':method',
    'POST',
    ':scheme',
    'http',
    ':path',
    '/bench.Echo/Plain',
    ':authority',
    '127.0.0.1:4000',
    'content-type',
    'application/grpc',
    'te',
    'trailers',
  ];

  it('produces blocks a decoder reads back, and indexes repeated fields', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const first = encoder.encode(request);
    const second = encoder.encode(request);
    expect(decoder.decode(first, 0, first.length)).toEqual(request);
    expect(decoder.decode(second, 0, second.length)).toEqual(request);
    // Two static indices plus four dynamic ones: one octet each.
    expect(second.length).toBe(6);
  });

  it('falls back to literals without indexing once the table budget is used', () => {
    const encoder = new HpackEncoder(80);
    const decoder = new HpackDecoder();
    for (let i = 0; i < 3; i++) {
      const fields = [':status', '200', 'x-call', `value-${i}`, 'x-call', 'value-0'];
      const block = encoder.encode(fields);
      expect(decoder.decode(block, 0, block.length)).toEqual(fields);
    }
  });

  it('never indexes when the peer allows no table', () => {
    const encoder = new HpackEncoder();
    encoder.setTableSize(0);
    const decoder = new HpackDecoder(0);
    const block = encoder.encode(request);
    expect(decoder.decode(block, 0, block.length)).toEqual(request);
    expect(encoder.encode(request).length).toBe(block.length);
  });
});
