import { describe, expect, it } from 'vitest';
import { HpackDecoder } from './decoder.js';
import { HpackEncoder } from './encoder.js';
import { prng, randomString } from './test-support/hpack-test-utils.js';

function decode(decoder: HpackDecoder, block: Buffer): string[] {
  const out: string[] = [];
  decoder.decode(block, 0, block.length, out);
  return out;
}

/** Internal map of the encoder, to check that evicted names do not pile up. */
function recordCount(encoder: HpackEncoder): number {
  return (encoder as unknown as { records: Map<string, unknown> }).records.size;
}

const SENSITIVE: readonly (readonly [string, number])[] = [
  ['authorization', 23],
  ['proxy-authorization', 49],
  ['cookie', 32],
  ['set-cookie', 55],
];

describe('HpackEncoder representations', () => {
  it('indexes exact static matches, empty static values included', () => {
    const encoder = new HpackEncoder();
    const fields = [
      ':method',
      'POST',
      ':path',
      '/',
      ':authority',
      '',
      'accept-encoding',
      'gzip, deflate',
      ':status',
      '500',
    ];
    expect(encoder.encode(fields).toString('hex')).toBe('838481908e');
    expect(encoder.tableSize).toBe(0);
  });

  it('adds other fields with incremental indexing, then indexes them', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const fields = ['content-type', 'application/grpc', 'te', 'trailers', 'x-custom', 'value'];
    const first = encoder.encode(fields);
    // content-type is static index 31: 0x40 | 31 = 0x5f.
    expect(first[0]).toBe(0x5f);
    expect(decode(decoder, first)).toEqual(fields);
    const second = encoder.encode(fields);
    expect(second.toString('hex')).toBe('c0bfbe');
    expect(decode(decoder, second)).toEqual(fields);
    expect(decoder.tableSize).toBe(encoder.tableSize);
  });

  it('refers to a name already in the dynamic table by its index', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    decode(decoder, encoder.encode(['x-custom', 'one']));
    const block = encoder.encode(['x-custom', 'two']);
    // Literal with incremental indexing, name index 62, then the value.
    expect(block[0]).toBe(0x40 | 62);
    expect(decode(decoder, block)).toEqual(['x-custom', 'two']);
    expect(decode(decoder, encoder.encode(['x-custom', 'one', 'x-custom', 'two']))).toEqual([
      'x-custom',
      'one',
      'x-custom',
      'two',
    ]);
  });

  it.each(SENSITIVE)('sends %s never indexed (0x10 pattern) and keeps it out of the table', (name, index) => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const value = `secret-${name}-0123456789abcdef0123456789`;
    for (let i = 0; i < 3; i++) {
      const block = encoder.encode([name, value]);
      expect(block[0] & 0xf0).toBe(0x10);
      expect(block.subarray(0, 2).toString('hex')).toBe(`1f${(index - 15).toString(16).padStart(2, '0')}`);
      expect(decode(decoder, block)).toEqual([name, value]);
      expect(encoder.tableSize).toBe(0);
      expect(decoder.tableSize).toBe(0);
    }
    expect(encoder.encode([name, ''])[0] & 0xf0).toBe(0x10);
  });

  it('sends a field larger than half the table without indexing, leaving the table alone', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    decode(decoder, encoder.encode(['a', 'b']));
    const big = 'z'.repeat(2100);
    for (let i = 0; i < 2; i++) {
      const block = encoder.encode(['x-big', big, 'a', 'b']);
      expect(block[0] & 0xf0).toBe(0x00);
      expect(decode(decoder, block)).toEqual(['x-big', big, 'a', 'b']);
      expect(encoder.tableSize).toBe(34);
      expect(decoder.tableSize).toBe(34);
    }
  });

  it('moves a Huffman-coded string whose length prefix is shorter than the plain one', () => {
    // '0' and '1' take 5 bits: 200 of them are 125 octets Huffman-coded (prefix of 1 octet, not 2).
    for (const length of [126, 127, 200, 254, 255, 16510, 16511, 16600]) {
      const fields = ['x-zeros', '0'.repeat(length), 'x-ones', '1'.repeat(length)];
      const block = new HpackEncoder().encode(fields);
      expect(decode(new HpackDecoder(), block)).toEqual(fields);
    }
    const block = new HpackEncoder().encode(['x-zeros', '0'.repeat(200)]);
    const nameEnd = 2 + ((block[1] as number) & 0x7f);
    expect(block[nameEnd]).toBe(0x80 | 125);
    expect(block.length).toBe(nameEnd + 1 + 125);
  });

  it('Huffman-codes strings only when that is shorter', () => {
    const encoder = new HpackEncoder();
    // 'www.example.com' is 12 octets Huffman-coded; "\u00ff" would take 26 bits.
    expect(encoder.encode([':authority', 'www.example.com'])[1]).toBe(0x80 | 12);
    expect(encoder.encode([':authority', '\u00ff\u00fe'])[1]).toBe(2);
  });
});

describe('HpackEncoder table size updates', () => {
  it('announces a table size other than 4096 at the start of its first block', () => {
    expect(new HpackEncoder(256).encode([]).toString('hex')).toBe('3fe101');
    expect(new HpackEncoder(0).encode([':method', 'GET']).toString('hex')).toBe('2082');
    // The peer allowing more does not make this encoder use more than 4096 by default.
    expect(new HpackEncoder(65536).encode([]).toString('hex')).toBe('');
    expect(new HpackEncoder(65536, 65536).encode([]).toString('hex')).toBe('3fe1ff03');
  });

  it('announces a change once, at the start of the next block only', () => {
    const encoder = new HpackEncoder();
    encoder.setMaxTableSize(100);
    expect(encoder.encode([':method', 'GET']).toString('hex')).toBe('3f4582');
    expect(encoder.encode([':method', 'GET']).toString('hex')).toBe('82');
  });

  it('announces the minimum, then the final size, when the size dips between blocks', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    decode(decoder, encoder.encode(['x-a', '1', 'x-b', '2']));
    encoder.setMaxTableSize(40);
    encoder.setMaxTableSize(4000);
    encoder.setMaxTableSize(200);
    expect(encoder.tableSize).toBe(36);
    decoder.setMaxTableSize(40);
    decoder.setMaxTableSize(200);
    const block = encoder.encode(['x-a', '1']);
    // 40 = 31 + 9, 200 = 31 + 169 (a9 01).
    expect(block.subarray(0, 5).toString('hex')).toBe('3f093fa901');
    expect(decode(decoder, block)).toEqual(['x-a', '1']);
    expect(decoder.tableSize).toBe(encoder.tableSize);
  });

  it('evicts down to a smaller size at once, and never inserts with a zero table', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    decode(decoder, encoder.encode(['x-a', '1', 'x-b', '2', 'x-c', '3']));
    expect(encoder.tableSize).toBe(108);
    encoder.setMaxTableSize(0);
    decoder.setMaxTableSize(0);
    expect(encoder.tableSize).toBe(0);
    for (let i = 0; i < 2; i++) {
      const block = encoder.encode(['x-a', '1', 'x-c', '3']);
      expect(decode(decoder, block)).toEqual(['x-a', '1', 'x-c', '3']);
      expect(encoder.tableSize).toBe(0);
      expect(decoder.tableSize).toBe(0);
    }
    expect(recordCount(encoder)).toBe(0);
  });

  it('takes any 32-bit setting from the peer, clamped to what it is willing to use', () => {
    const encoder = new HpackEncoder(2 ** 32 - 1);
    expect(encoder.encode([]).length).toBe(0);
    encoder.setMaxTableSize(2 ** 32 - 1);
    expect(encoder.encode([]).toString('hex')).toBe('3fe11f');
  });

  it('rejects invalid sizes with RangeError', () => {
    expect(() => new HpackEncoder(-1)).toThrow(RangeError);
    expect(() => new HpackEncoder(4096, 2 ** 31)).toThrow(RangeError);
    expect(() => new HpackEncoder().setMaxTableSize(Number.NaN)).toThrow(RangeError);
  });
});

describe('HpackEncoder buffers', () => {
  it('never writes more than maxEncodedLength, even for strings Huffman would lengthen', () => {
    const random = prng(31);
    const encoder = new HpackEncoder();
    for (let i = 0; i < 300; i++) {
      const fields: string[] = [];
      for (let n = random(8); n > 0; n--) {
        fields.push(
          randomString(random, random(200)),
          randomString(random, random(i % 10 === 0 ? 5000 : 100)),
        );
      }
      if (i % 7 === 0) encoder.setMaxTableSize(random(4097));
      const out = Buffer.alloc(encoder.maxEncodedLength(fields));
      expect(encoder.encodeInto(fields, out, 0)).toBeLessThanOrEqual(out.length);
    }
  });

  it('writes at the given position and returns the new one', () => {
    const encoder = new HpackEncoder();
    const out = Buffer.alloc(128, 0xee);
    expect(encoder.encodeInto([':method', 'GET', ':path', '/'], out, 10)).toBe(12);
    expect(out.subarray(9, 13).toString('hex')).toBe('ee8284ee');
  });

  it('throws RangeError before touching any state when the buffer is too small', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const fields = ['x-custom', 'value', ':method', 'GET'];
    encoder.setMaxTableSize(1000);
    decoder.setMaxTableSize(1000);
    expect(() => encoder.encodeInto(fields, Buffer.alloc(4), 0)).toThrow(RangeError);
    expect(() => encoder.encodeInto(['odd'], Buffer.alloc(64), 0)).toThrow(RangeError);
    expect(encoder.tableSize).toBe(0);
    expect(decode(decoder, encoder.encode(fields))).toEqual(fields);
  });
});

describe('HpackEncoder and HpackDecoder round trips', () => {
  it('agree over random header lists with table size changes (seed 2024)', () => {
    const random = prng(2024);
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const names = [
      ':method',
      ':path',
      ':status',
      'content-type',
      'grpc-timeout',
      'user-agent',
      'x-request-id',
      'authorization',
      'cookie',
      'set-cookie',
      'proxy-authorization',
      'grpc-status',
      'x-\u00e9\u0000\u00ff',
    ];
    const values = ['GET', 'POST', '/', '200', 'application/grpc', '5000m', '', 'trailers'];
    const usedValues: string[] = [];
    for (let block = 0; block < 1500; block++) {
      if (random(20) === 0) {
        // The peer's decoder changes its setting (sometimes twice) before our next block.
        for (let changes = 1 + random(2); changes > 0; changes--) {
          const size = random(10) === 0 ? 0 : random(5000);
          encoder.setMaxTableSize(size);
          decoder.setMaxTableSize(size);
        }
      }
      const fields: string[] = [];
      for (let n = random(14); n > 0; n--) {
        const pick = random(10);
        const name =
          pick < 7 ? (names[random(names.length)] as string) : randomString(random, 1 + random(15));
        let value: string;
        const kind = random(10);
        if (kind < 3) value = values[random(values.length)] as string;
        else if (kind < 6 && usedValues.length > 0) value = usedValues[random(usedValues.length)] as string;
        else if (kind < 9) value = randomString(random, random(60));
        else value = randomString(random, random(3000));
        usedValues.push(value);
        if (usedValues.length > 50) usedValues.shift();
        fields.push(name, value);
      }
      const encoded = encoder.encode(fields);
      expect(encoded.length).toBeLessThanOrEqual(encoder.maxEncodedLength(fields));
      const out: string[] = [];
      const size = decoder.decode(encoded, 0, encoded.length, out);
      if (size <= 65536) expect(out, `block ${block}`).toEqual(fields);
      expect(decoder.tableSize, `block ${block}`).toBe(encoder.tableSize);
    }
  });

  it('drops evicted names from its lookup map', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    for (let i = 0; i < 5000; i++) {
      const fields = [`x-name-${i}`, `value-${i}`, 'content-type', `type-${i % 7}`];
      expect(decode(decoder, encoder.encode(fields))).toEqual(fields);
    }
    // At most 4096 / 32 entries can be alive, plus the one static name used.
    expect(recordCount(encoder)).toBeLessThanOrEqual(4096 / 32 + 1);
    expect(decoder.tableSize).toBe(encoder.tableSize);
  });

  it('re-encodes repeated and changing long literals correctly (repeated-literal cache)', () => {
    const random = prng(77);
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    const tokens = [0, 1, 2, 3, 4, 5, 6, 7].map(() => randomString(random, 200, alphabet));
    for (let i = 0; i < 500; i++) {
      const token = tokens[random(tokens.length)] as string;
      // A copy with the same content but another identity, now and then.
      const value = random(2) === 0 ? token : [...token].join('');
      const fields = [
        'authorization',
        `Bearer ${value}`,
        'x-big',
        token.repeat(11),
        'cookie',
        value.slice(0, 50),
      ];
      expect(decode(decoder, encoder.encode(fields))).toEqual(fields);
    }
    expect(encoder.tableSize).toBe(0);
  });
});

describe('never-indexed fields forwarded by an intermediary (RFC 7541 6.2.3)', () => {
  it('a name a peer sent never-indexed is encoded never-indexed from then on', () => {
    const plain = new HpackEncoder();
    // Before: an ordinary name is indexed (literal with incremental indexing, 0x40).
    expect((plain.encode(['x-secret-pin', 'a'])[0] as number) & 0xc0).toBe(0x40);
    // A peer marks it never indexed: 0x10, literal name 'x-secret-pin', value '1234'.
    const name = Buffer.from('x-secret-pin', 'latin1');
    const block = Buffer.concat([
      Buffer.from([0x10, name.length]),
      name,
      Buffer.from([4]),
      Buffer.from('1234'),
    ]);
    const out: string[] = [];
    new HpackDecoder().decode(block, 0, block.length, out);
    expect(out).toEqual(['x-secret-pin', '1234']);
    const forwarded = new HpackEncoder().encode(['x-secret-pin', '1234']);
    expect((forwarded[0] as number) & 0xf0).toBe(0x10);
    const back: string[] = [];
    new HpackDecoder().decode(forwarded, 0, forwarded.length, back);
    expect(back).toEqual(['x-secret-pin', '1234']);
  });
});
