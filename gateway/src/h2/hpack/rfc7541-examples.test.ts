import { describe, expect, it } from 'vitest';
import { HpackDecoder } from './decoder.js';
import { HpackEncoder } from './encoder.js';
import { hex } from './test-support/hpack-test-utils.js';

/** One block of an RFC 7541 Appendix C example: wire octets, header list, table size after it. */
interface Step {
  readonly block: string;
  readonly fields: readonly string[];
  readonly tableSize: number;
}

function decodeAll(decoder: HpackDecoder, block: Buffer): string[] {
  const out: string[] = [];
  const size = decoder.decode(block, 0, block.length, out);
  let expected = 0;
  for (let i = 0; i < out.length; i += 2)
    expected += (out[i] as string).length + (out[i + 1] as string).length + 32;
  expect(size).toBe(expected);
  return out;
}

/** The header lists of C.3 and C.4: each request repeats the first one's four pseudo-header fields. */
function request(scheme: string, path: string, ...more: string[]): readonly string[] {
  return [':method', 'GET', ':scheme', scheme, ':path', path, ':authority', 'www.example.com', ...more];
}

const REQUESTS: readonly (readonly string[])[] = [
  request('http', '/'),
  request('http', '/', 'cache-control', 'no-cache'),
  request('https', '/index.html', 'custom-key', 'custom-value'),
];

/** The header lists of C.5 and C.6: each response repeats the first one's four fields. */
function response(status: string, date: string, ...more: string[]): readonly string[] {
  return [
    ':status',
    status,
    'cache-control',
    'private',
    'date',
    date,
    'location',
    'https://www.example.com',
    ...more,
  ];
}

const RESPONSES: readonly (readonly string[])[] = [
  response('302', 'Mon, 21 Oct 2013 20:13:21 GMT'),
  response('307', 'Mon, 21 Oct 2013 20:13:21 GMT'),
  response(
    '200',
    'Mon, 21 Oct 2013 20:13:22 GMT',
    'content-encoding',
    'gzip',
    'set-cookie',
    'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
  ),
];

const REQUEST_TABLE_SIZES = [57, 110, 164];
const RESPONSE_TABLE_SIZES = [222, 222, 215];

const C3_BLOCKS = [
  '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
  '8286 84be 5808 6e6f 2d63 6163 6865',
  '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
];
const C4_BLOCKS = [
  '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
  '8286 84be 5886 a8eb 1064 9cbf',
  '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
];
const C5_BLOCKS = [
  `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32
   3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
  '4803 3330 37c1 c0bf',
  `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970
   7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61
   6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`,
];
const C6_BLOCKS = [
  `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad
   1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
  '4883 640e ffc1 c0bf',
  `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2
   e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
];

function steps(
  blocks: readonly string[],
  lists: readonly (readonly string[])[],
  sizes: readonly number[],
): Step[] {
  return blocks.map((block, i) => ({
    block,
    fields: lists[i] as readonly string[],
    tableSize: sizes[i] as number,
  }));
}

/** The responses use a 256-octet table; the peer announces it with a size update (3fe101). */
function responseDecoder(): HpackDecoder {
  const decoder = new HpackDecoder({ maxTableSize: 256 });
  expect(decoder.decode(hex('3fe101'), 0, 3, [])).toBe(0);
  return decoder;
}

describe('RFC 7541 C.2 (header field representations)', () => {
  it.each([
    [
      'C.2.1 literal with indexing',
      '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572',
      ['custom-key', 'custom-header'],
      55,
    ],
    ['C.2.2 literal without indexing', '040c 2f73 616d 706c 652f 7061 7468', [':path', '/sample/path'], 0],
    ['C.2.3 literal never indexed', '1008 7061 7373 776f 7264 0673 6563 7265 74', ['password', 'secret'], 0],
    ['C.2.4 indexed', '82', [':method', 'GET'], 0],
  ])('%s', (_name, block, fields, tableSize) => {
    const decoder = new HpackDecoder();
    expect(decodeAll(decoder, hex(block))).toEqual(fields);
    expect(decoder.tableSize).toBe(tableSize);
  });

  it('C.2.4 encodes byte for byte', () => {
    expect(new HpackEncoder().encode([':method', 'GET']).toString('hex')).toBe('82');
  });
});

describe.each([
  ['C.3 requests without Huffman', steps(C3_BLOCKS, REQUESTS, REQUEST_TABLE_SIZES), () => new HpackDecoder()],
  ['C.4 requests with Huffman', steps(C4_BLOCKS, REQUESTS, REQUEST_TABLE_SIZES), () => new HpackDecoder()],
  ['C.5 responses without Huffman', steps(C5_BLOCKS, RESPONSES, RESPONSE_TABLE_SIZES), responseDecoder],
  ['C.6 responses with Huffman', steps(C6_BLOCKS, RESPONSES, RESPONSE_TABLE_SIZES), responseDecoder],
])('RFC 7541 %s', (_name, sequence, newDecoder) => {
  it('decodes each block with one decoder, table size included', () => {
    const decoder = newDecoder();
    for (const step of sequence) {
      expect(decodeAll(decoder, hex(step.block))).toEqual(step.fields);
      expect(decoder.tableSize).toBe(step.tableSize);
    }
  });
});

describe('the encoder on the RFC 7541 Appendix C header lists', () => {
  it('reproduces C.4 byte for byte (same choices: indexing, Huffman when shorter)', () => {
    const encoder = new HpackEncoder();
    const decoder = new HpackDecoder();
    REQUESTS.forEach((fields, i) => {
      const block = encoder.encode(fields);
      expect(block.toString('hex')).toBe((C4_BLOCKS[i] as string).replace(/\s+/g, ''));
      expect(decodeAll(decoder, block)).toEqual(fields);
      expect(encoder.tableSize).toBe(REQUEST_TABLE_SIZES[i]);
      expect(decoder.tableSize).toBe(REQUEST_TABLE_SIZES[i]);
    });
  });

  it('encodes the C.6 responses into blocks that decode back, with a 256-octet table', () => {
    const encoder = new HpackEncoder(256);
    const decoder = new HpackDecoder({ maxTableSize: 256 });
    const blocks = RESPONSES.map((fields) => {
      const block = encoder.encode(fields);
      expect(decodeAll(decoder, block)).toEqual(fields);
      expect(decoder.tableSize).toBe(encoder.tableSize);
      return block.toString('hex');
    });
    // The first block announces the 256-octet table, then matches C.6.1. In C.6.2 '307' is as long
    // Huffman-coded as not, and this encoder then prefers the plain form: that is C.5.2.
    expect(blocks[0]).toBe(`3fe101${(C6_BLOCKS[0] as string).replace(/\s+/g, '')}`);
    expect(blocks[1]).toBe((C5_BLOCKS[1] as string).replace(/\s+/g, ''));
    // C.6.3 differs: set-cookie is sent never indexed (1f28) instead of added to the table.
    expect(blocks[2]).toContain('1f28');
    // Without set-cookie (98) the table still holds location (63) and :status 307 (42).
    expect(encoder.tableSize).toBe(222);
  });
});
