import { SignJWT } from 'jose';

export interface TokenOptions {
  secret: string;
  sessionId?: string;
  /** `exp` in epoch seconds; default one hour from now. */
  exp?: number;
  alg?: string;
  extraClaims?: Record<string, unknown>;
  omitExp?: boolean;
}

/** Signs a token shaped like the auth service's (claims login, role, session_id, iat, exp). */
export async function signToken(options: TokenOptions): Promise<string> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { login: 'TestUser', role: 'admin', ...options.extraClaims };
  if (options.sessionId !== undefined) claims.session_id = options.sessionId;
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .setIssuedAt(nowSeconds);
  if (options.omitExp !== true) jwt = jwt.setExpirationTime(options.exp ?? nowSeconds + 3600);
  return jwt.sign(new TextEncoder().encode(options.secret));
}

/** An unsecured JWT (`alg: none`, empty signature) carrying the given claims. */
export function unsecuredToken(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}

/** The same token with its payload replaced (the signature no longer matches). */
export function withPayload(token: string, claims: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}
