import type { Metadata } from '@grpc/grpc-js';

/**
 * First value of a text metadata key, or `undefined` when absent or empty (REFERENCE.md 2.3: an
 * empty value counts as missing). grpc-js lower-cases keys on both ends, so lookups are
 * case-insensitive as long as `key` is lower-case.
 */
export function firstMetadataValue(metadata: Metadata, key: string): string | undefined {
  const [first] = metadata.get(key.toLowerCase());
  if (first === undefined) return undefined;
  const text = typeof first === 'string' ? first : first.toString('utf8');
  return text === '' ? undefined : text;
}
