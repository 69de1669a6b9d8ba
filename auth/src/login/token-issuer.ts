import { SignJWT } from 'jose';

export interface TokenClaims {
  readonly login: string;
  readonly role: string;
  readonly sessionId: string;
}

export interface IssuedToken {
  readonly token: string;
  /** The token's `exp` claim (seconds since the epoch); LoginResponse.expires_at carries the same instant. */
  readonly expiresAtSeconds: number;
}

/** Issues the tokens that the gateway and the workers verify (REFERENCE.md 3.4, Rewrite). */
export interface TokenIssuer {
  /** Rejects when the token cannot be signed; Login turns that into INTERNAL `failed to create token`. */
  issue(claims: TokenClaims, nowMs: number): Promise<IssuedToken>;
}

/**
 * HS256 JWTs carrying `login`, `role`, `session_id`, `iat` and `exp`. Both times are whole seconds
 * (NumericDate), truncated like the reference's second-precision expiry, so `exp` is
 * `floor((now + lifetime) / 1000)`.
 */
export class JwtTokenIssuer implements TokenIssuer {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly lifetimeMs: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(claims: TokenClaims, nowMs: number): Promise<IssuedToken> {
    const issuedAtSeconds = Math.floor(nowMs / 1000);
    const expiresAtSeconds = Math.floor((nowMs + this.lifetimeMs) / 1000);
    const token = await new SignJWT({ login: claims.login, role: claims.role, session_id: claims.sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(issuedAtSeconds)
      .setExpirationTime(expiresAtSeconds)
      .sign(this.key);
    return { token, expiresAtSeconds };
  }
}
