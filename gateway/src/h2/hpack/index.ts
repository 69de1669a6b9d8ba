export type { HpackDecoderOptions } from './decoder.js';
export { HpackDecoder } from './decoder.js';
export { HpackEncoder } from './encoder.js';
export { HpackError } from './hpack-error.js';
export { decodeHuffman, encodeHuffman, huffmanEncodedLength } from './huffman.js';
export { SENSITIVE_NAMES, STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES } from './static-table.js';
