import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/**
 * Decides whether a bearer token admits a call (REFERENCE.md 3.4, 6.5). Called synchronously by
 * `JwtAuthFilter` on every call of a route with `authorization: required`, so it must be fast,
 * must not block and must not throw for any input (a bad token is `false`, never an exception).
 */
export interface TokenValidator {
  /** true when the token is a valid, unexpired HS256 JWT whose session_id claim equals sessionId */
  validate(token: string, sessionId: string, nowMs: number): boolean;
}

/** Far above a real token (a few hundred bytes); bounds the work an attacker can ask for. */
const MAX_TOKEN_LENGTH = 8192;
const DEFAULT_CACHE_SIZE = 4096;
/** Unpadded base64url, as RFC 7515 requires; Node's decoder would silently skip other characters. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** An HMAC-SHA256 is 32 bytes: 43 base64url characters. */
const SIGNATURE_LENGTH = 43;

interface VerifiedClaims {
  readonly expMs: number;
  readonly nbfMs: number | undefined;
  readonly sessionId: string;
}

interface CacheEntry {
  readonly claims: VerifiedClaims;
  /** `insertions` when the entry was last (re)inserted: its place in the eviction order. */
  stamp: number;
}

/**
 * HS256 JWT validation on `node:crypto` rather than jose: it runs on every authorised call, and
 * jose's async, general-purpose path costs far more than one HMAC.
 *
 * Accepts only `alg: HS256` (so `none`, HS384/512 and RS256 headers are refused, whatever their
 * signature), no `crit` header, a signature compared in constant time, a numeric `exp` (required),
 * a string `session_id`, and a numeric `nbf` if present. Expired only when now is strictly after
 * `exp` (the reference accepts `exp == now`, jose does not). No clock tolerance.
 *
 * Successful verifications are cached (token → claims, bounded, least recently used evicted), so a
 * session's repeated calls skip the HMAC and the JSON parsing; expiry, `nbf` and the session are
 * still checked on every call. Only tokens signed with our secret can enter the cache. A hit moves
 * its token to the young end only once half the cache was inserted after it, so a session's calls
 * in a row cost one lookup each, not a delete and an insert; a token is evicted only when at
 * least half a cache of other tokens came in since its last use.
 *
 * Secret rotation (`JWT_SECRET_PREVIOUS`): a token signed with `previousSecret` is accepted too, so
 * sessions logged in before the auth service switched secrets stay valid until the previous secret
 * is removed (which takes a restart, and so also empties the cache). Only a token the current
 * secret refuses pays the second HMAC.
 */
export class Hs256TokenValidator implements TokenValidator {
  /** The current secret's key first. */
  private readonly keys: readonly KeyObject[];
  private readonly cacheSize: number;
  /** In eviction order: the least recently used first. */
  private readonly cache = new Map<string, CacheEntry>();
  private insertions = 0;

  constructor(
    secret: string,
    options: { readonly cacheSize?: number; readonly previousSecret?: string | undefined } = {},
  ) {
    if (secret === '' || options.previousSecret === '') {
      throw new TypeError('the HS256 secret must be non-empty');
    }
    const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) {
      throw new RangeError(`cacheSize must be a non-negative integer, got ${cacheSize}`);
    }
    // Same bytes as jose's `new TextEncoder().encode(secret)`, so tokens from the auth service verify.
    this.keys = [secret, ...(options.previousSecret === undefined ? [] : [options.previousSecret])].map(
      (text) => createSecretKey(Buffer.from(text, 'utf8')),
    );
    this.cacheSize = cacheSize;
  }

  validate(token: string, sessionId: string, nowMs: number): boolean {
    if (token.length > MAX_TOKEN_LENGTH) {
      return false;
    }
    const entry = this.cache.get(token);
    let claims: VerifiedClaims | undefined;
    if (entry !== undefined) {
      claims = entry.claims;
      if (nowMs > claims.expMs) {
        this.cache.delete(token);
        return false;
      }
      if (this.insertions - entry.stamp > this.cacheSize >> 1) {
        // Re-insert to mark it recently used: Map iteration order is insertion order.
        this.cache.delete(token);
        entry.stamp = this.insertions++;
        this.cache.set(token, entry);
      }
    } else {
      claims = this.verify(token);
      if (claims === undefined || nowMs > claims.expMs) {
        return false;
      }
      this.remember(token, claims);
    }
    if (claims.nbfMs !== undefined && nowMs < claims.nbfMs) {
      return false;
    }
    return claims.sessionId === sessionId;
  }

  /** Signature and claim shapes; the time- and session-dependent checks are the caller's. */
  private verify(token: string): VerifiedClaims | undefined {
    const firstDot = token.indexOf('.');
    const secondDot = token.indexOf('.', firstDot + 1);
    if (firstDot < 0 || secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) {
      return undefined;
    }
    const encodedHeader = token.slice(0, firstDot);
    const encodedPayload = token.slice(firstDot + 1, secondDot);
    const signature = token.slice(secondDot + 1);
    if (
      signature.length !== SIGNATURE_LENGTH ||
      !BASE64URL.test(signature) ||
      !BASE64URL.test(encodedHeader) ||
      !BASE64URL.test(encodedPayload)
    ) {
      return undefined;
    }
    const header = decodeJsonObject(encodedHeader);
    // `crit` names extensions the verifier must understand (RFC 7515 4.1.11); we understand none.
    if (header === undefined || header.alg !== 'HS256' || header.crit !== undefined) {
      return undefined;
    }
    // Comparing the canonical encodings also refuses non-canonical spellings of the same bytes.
    const signed = token.slice(0, secondDot);
    const received = Buffer.from(signature, 'latin1');
    const signedWithOurs = this.keys.some((key) =>
      timingSafeEqual(
        received,
        Buffer.from(createHmac('sha256', key).update(signed).digest('base64url'), 'latin1'),
      ),
    );
    if (!signedWithOurs) {
      return undefined;
    }
    const payload = decodeJsonObject(encodedPayload);
    if (payload === undefined) {
      return undefined;
    }
    const { exp, nbf, session_id: sessionId } = payload;
    if (!isNumericDate(exp) || (nbf !== undefined && !isNumericDate(nbf)) || typeof sessionId !== 'string') {
      return undefined;
    }
    return { expMs: exp * 1000, nbfMs: nbf === undefined ? undefined : nbf * 1000, sessionId };
  }

  private remember(token: string, claims: VerifiedClaims): void {
    if (this.cacheSize === 0) {
      return;
    }
    if (this.cache.size >= this.cacheSize) {
      const leastRecentlyUsed = this.cache.keys().next().value as string;
      this.cache.delete(leastRecentlyUsed);
    }
    this.cache.set(token, { claims, stamp: this.insertions++ });
  }
}

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
