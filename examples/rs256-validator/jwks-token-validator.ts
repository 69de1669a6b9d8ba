import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { TokenValidator } from '@stickygw/gateway';

/** The algorithms accepted, with what node:crypto needs to verify each. */
const ALGORITHMS = {
  RS256: { kty: 'RSA', dsaEncoding: undefined },
  // JWS carries an ECDSA signature as r || s (IEEE P1363), not DER.
  ES256: { kty: 'EC', dsaEncoding: 'ieee-p1363' },
} as const;
type Algorithm = keyof typeof ALGORITHMS;

const MAX_TOKEN_LENGTH = 8192;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

interface VerificationKey {
  readonly key: KeyObject;
  readonly kty: string;
  /** The JWK's `alg` when it names one: the key is then used for that algorithm only. */
  readonly alg: string | undefined;
}

/**
 * The public keys of a JWKS document (`{ "keys": [...] }`) by `kid`. Keys without a `kid`, private
 * keys, and keys of other types or uses are skipped; a document that is not a JWKS throws.
 */
function parseJwks(text: string): Map<string, VerificationKey> {
  const document = JSON.parse(text) as { keys?: unknown };
  if (!Array.isArray(document.keys)) throw new Error('not a JWKS: no "keys" list');
  const keys = new Map<string, VerificationKey>();
  for (const jwk of document.keys as Record<string, unknown>[]) {
    if (typeof jwk.kid !== 'string' || jwk.d !== undefined || (jwk.use !== undefined && jwk.use !== 'sig'))
      continue;
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') continue;
    const key = createPublicKey({ key: jwk as never, format: 'jwk' });
    keys.set(jwk.kid, { key, kty: jwk.kty, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined });
  }
  return keys;
}

/**
 * RS256 and ES256 tokens, each verified with the key of its header's `kid` from a JWKS file.
 *
 * Rotation: the file is read again when its modification time or size changes (checked every
 * `refreshMs` in the background, never on a call), so a new key is accepted and a removed one
 * refused within one interval; a file that fails to parse keeps the last good keys. Verification
 * is synchronous (node:crypto) as the TokenValidator contract asks; jose's verify is async.
 *
 * Claims as the HS256 validator checks them: `exp` required and not passed, `nbf` if present, a
 * string `session_id` equal to the call's `session-id`. `alg: none`, HS256 and any algorithm not
 * matching the key are refused, whatever the signature.
 */
export class JwksTokenValidator implements TokenValidator {
  #keys: Map<string, VerificationKey>;
  /** Modification time and size of the file last loaded. */
  #version: string;

  constructor(
    readonly path: string,
    options: { readonly refreshMs?: number; readonly onReloadFailed?: (error: unknown) => void } = {},
  ) {
    this.#version = fileVersion(path);
    this.#keys = parseJwks(readFileSync(path, 'utf8'));
    // Unref'd: the validator lives as long as the gateway process.
    const timer = setInterval(() => {
      try {
        const version = fileVersion(path);
        if (version === this.#version) return;
        this.#keys = parseJwks(readFileSync(path, 'utf8'));
        this.#version = version;
      } catch (error) {
        options.onReloadFailed?.(error);
      }
    }, options.refreshMs ?? 1000);
    timer.unref();
  }

  validate(token: string, sessionId: string, nowMs: number): boolean {
    if (token.length > MAX_TOKEN_LENGTH) return false;
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) return false;
    const [encodedHeader, encodedPayload, signature] = parts as [string, string, string];
    const header = decodeJson(encodedHeader);
    if (header === undefined || header.crit !== undefined || typeof header.kid !== 'string') return false;
    const algorithm = ALGORITHMS[header.alg as Algorithm] as (typeof ALGORITHMS)[Algorithm] | undefined;
    const key = this.#keys.get(header.kid);
    if (algorithm === undefined || key === undefined || key.kty !== algorithm.kty) return false;
    if (key.alg !== undefined && key.alg !== header.alg) return false;
    let valid: boolean;
    try {
      valid = verify(
        'sha256',
        Buffer.from(`${encodedHeader}.${encodedPayload}`),
        algorithm.dsaEncoding === undefined ? key.key : { key: key.key, dsaEncoding: algorithm.dsaEncoding },
        Buffer.from(signature, 'base64url'),
      );
    } catch {
      return false;
    }
    if (!valid) return false;
    const payload = decodeJson(encodedPayload);
    if (payload === undefined) return false;
    const { exp, nbf, session_id: claimedSession } = payload;
    if (typeof exp !== 'number' || nowMs > exp * 1000) return false;
    if (nbf !== undefined && (typeof nbf !== 'number' || nowMs < nbf * 1000)) return false;
    return claimedSession === sessionId;
  }
}

function fileVersion(path: string): string {
  const stats = statSync(path);
  return `${stats.mtimeMs}:${stats.size}`;
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
