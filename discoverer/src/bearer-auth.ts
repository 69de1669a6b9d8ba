import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './http-error.js';

/** SHA-256 of a token: what is compared, and what a registration keeps of the token that wrote it. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * The tokens one kind of access accepts, held as digests. Comparing equal-length digests with
 * `timingSafeEqual`, every configured digest each time, leaks neither a token's content nor its
 * length nor which of several tokens came closest.
 */
export class TokenSet {
  readonly #digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.#digests = tokens.map(tokenDigest);
  }

  /** No tokens configured: the access is open. */
  get open(): boolean {
    return this.#digests.length === 0;
  }

  /** The presented digest matches one of the set's (constant time in the token's content). */
  accepts(presented: Buffer): boolean {
    let matched = false;
    for (const digest of this.#digests) matched = timingSafeEqual(digest, presented) || matched;
    return matched;
  }
}

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/**
 * Checks `Authorization: Bearer <token>` against the token sets that grant the access (several:
 * a write token may also read). Returns the digest of the accepted token, or `undefined` when
 * every set is open; throws the 401 otherwise.
 */
export function authorize(
  authorization: string | undefined,
  granting: readonly TokenSet[],
): Buffer | undefined {
  if (granting.every((set) => set.open)) return undefined;
  const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
  if (token === undefined) throw HttpError.unauthorized('missing bearer token');
  const digest = tokenDigest(token);
  let accepted = false;
  for (const set of granting) accepted = set.accepts(digest) || accepted;
  if (!accepted) throw HttpError.unauthorized('invalid bearer token');
  return digest;
}
