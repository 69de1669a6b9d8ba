/**
 * A header block violates RFC 7541 (bad index, truncated or oversized integer or string, misplaced
 * or oversized table size update, bad Huffman code). The HTTP/2 connection layer turns it into a
 * connection error of type COMPRESSION_ERROR (RFC 9113 section 4.3): once a block fails to decode,
 * the dynamic table is out of sync with the peer and the connection cannot continue.
 */
export class HpackError extends Error {
  override readonly name = 'HpackError';
}
