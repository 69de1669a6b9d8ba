import { createHash } from 'node:crypto';
import {
  type CallContext,
  CONTINUE,
  type FilterDecision,
  firstMetadataValue,
  type HeaderFilter,
  type RequestHeaders,
  Status,
} from '@stickygw/gateway';

const MISSING_KEY: FilterDecision = Object.freeze({
  action: 'reject',
  code: Status.UNAUTHENTICATED,
  message: 'missing x-api-key',
});

const INVALID_KEY: FilterDecision = Object.freeze({
  action: 'reject',
  code: Status.UNAUTHENTICATED,
  message: 'invalid x-api-key',
});

const digest = (key: string): string => createHash('sha256').update(key).digest('hex');

/**
 * The keys of a keys file: one per line, blank lines and `#` comments skipped, surrounding spaces
 * trimmed.
 */
export function parseKeysFile(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * Admits a call of the routes in `prefixes` when its `x-api-key` is one of `keys`; other routes pass
 * untouched (a route with `authorization: required` keeps the gateway's JWT check). Only SHA-256
 * digests of the keys are kept, so the lookup compares digests, not the secrets, and its time
 * says nothing about how much of a key matched. The reject message never contains the key.
 */
export class ApiKeyFilter implements HeaderFilter {
  readonly name = 'api_key';
  readonly #digests: ReadonlySet<string>;
  readonly #prefixes: ReadonlySet<string>;

  constructor(keys: readonly string[], prefixes: readonly string[]) {
    this.#digests = new Set(keys.map(digest));
    this.#prefixes = new Set(prefixes);
  }

  apply(headers: RequestHeaders, ctx: CallContext): FilterDecision {
    if (!this.#prefixes.has(ctx.route.prefix)) return CONTINUE;
    const key = firstMetadataValue(headers, 'x-api-key');
    if (key === undefined) return MISSING_KEY;
    return this.#digests.has(digest(key.trim())) ? CONTINUE : INVALID_KEY;
  }
}
