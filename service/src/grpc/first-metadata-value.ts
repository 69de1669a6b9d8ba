import type { Metadata } from '@grpc/grpc-js';

/**
 * First value of a text metadata key, or `undefined` when absent or empty (REFERENCE.md 2.3: the
 * first value is used and an empty value counts as missing).
 *
 * Node's HTTP/2 layer joins repeated header fields into one comma-separated value before grpc-js
 * sees them (RFC 9110 5.3 allows that), so "first value" means the text before the first comma.
 * Neither key can carry a comma of its own: a JWT has none, and session ids are documented without.
 * grpc-js lower-cases keys on both ends, which makes the lookup case-insensitive.
 */
export function firstMetadataValue(metadata: Metadata, key: string): string | undefined {
  const [first] = metadata.get(key.toLowerCase());
  if (first === undefined) return undefined;
  const text = (typeof first === 'string' ? first : first.toString('utf8')).split(',', 1)[0]?.trim() ?? '';
  return text === '' ? undefined : text;
}
