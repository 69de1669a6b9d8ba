export { HpackDecoder } from './decoder.js';
export { HpackEncoder } from './encoder.js';
export { HpackError } from './hpack-error.js';
