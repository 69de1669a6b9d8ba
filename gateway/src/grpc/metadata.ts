import type { RequestHeaders } from './request-headers.js';

/**
 * The first value of a metadata key, as gRPC's `metadata.Get(key)[0]`; an empty value counts as
 * missing (REFERENCE.md 6.5: "missing or empty"). `key` must be lower-case, as HTTP/2 header
 * names are (the config lower-cases the sticky header). A repeated non-`set-cookie` name reads as
 * node:http2 joins it, one `a, b` string, which is returned as is.
 */
export function firstMetadataValue(headers: RequestHeaders, key: string): string | undefined {
  const value = headers.get(key);
  const first = Array.isArray(value) ? value[0] : value;
  return first === '' ? undefined : first;
}
