import { SignJWT } from 'jose';

/**
 * A valid HS256 token for `sessionId` (REFERENCE.md 3.4 claims), valid for an hour: long enough for
 * any bench run, so every call pays the full signature check and never an expiry rejection.
 */
export async function signBenchToken(secret: string, sessionId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ login: 'bench', role: 'admin', session_id: sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(secret));
}
