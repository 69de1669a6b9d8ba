import { SignJWT } from 'jose';

export interface TokenClaims {
  readonly login: string;
  readonly role: string;
  readonly sessionId: string;
  /** NumericDate (seconds). */
  readonly issuedAt: number;
  /** NumericDate (seconds). */
  readonly expiresAt: number;
}

/**
 * An HS256 JWT shaped exactly like the auth service's (REFERENCE.md 3.4), signed with `secret`.
 * The stack trims the secret everywhere, so the signer does too.
 */
export function signToken(secret: string, claims: TokenClaims): Promise<string> {
  return new SignJWT({ login: claims.login, role: claims.role, session_id: claims.sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(claims.issuedAt)
    .setExpirationTime(claims.expiresAt)
    .sign(new TextEncoder().encode(secret.trim()));
}
