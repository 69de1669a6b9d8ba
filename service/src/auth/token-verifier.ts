import { status } from '@grpc/grpc-js';
import { errors, jwtVerify } from 'jose';
import type { RpcError } from '../grpc/rpc-error.js';

const unauthenticated = (message: string): RpcError => ({ code: status.UNAUTHENTICATED, message });

/**
 * The worker's own check of the auth service's HS256 JWT (REFERENCE.md 5.4, rewrite note): only
 * HS256, `exp` required, signature checked before any claim. Every failure is UNAUTHENTICATED with
 * one of the reference messages; structural failures of any kind read `invalid token format`.
 */
export class TokenVerifier {
  readonly #key: Uint8Array;
  readonly #now: () => number;

  /** `now` returns epoch milliseconds; tests inject it to probe the expiry boundary. */
  constructor(secret: string, now: () => number = Date.now) {
    this.#key = new TextEncoder().encode(secret);
    this.#now = now;
  }

  /**
   * Resolves to `undefined` when `authorization` (the raw token, no `Bearer ` prefix, trimmed) is a
   * valid, unexpired token whose `session_id` equals `sessionHeader`; otherwise to the status to send.
   * Never rejects.
   */
  async verify(
    authorization: string | undefined,
    sessionHeader: string | undefined,
  ): Promise<RpcError | undefined> {
    const token = authorization?.trim() ?? '';
    if (token === '') return unauthenticated('missing or invalid authorization');

    const nowMs = this.#now();
    let payload: Record<string, unknown>;
    try {
      // jose treats a token as expired when exp <= floor(currentDate / 1 s). Handing it "now - 1 ms"
      // turns that into exp * 1000 < now for integer exp, i.e. expired only when now is strictly
      // after exp, as the reference requires. The check below covers fractional exp values.
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        requiredClaims: ['exp'],
        currentDate: new Date(nowMs - 1),
      }));
    } catch (error) {
      if (error instanceof errors.JWSSignatureVerificationFailed)
        return unauthenticated('invalid token signature');
      if (error instanceof errors.JWTExpired) return unauthenticated('token expired');
      return unauthenticated('invalid token format');
    }
    if (typeof payload.exp === 'number' && payload.exp * 1000 < nowMs)
      return unauthenticated('token expired');

    if (typeof payload.session_id !== 'string') return unauthenticated('invalid token format');
    // A missing header never matches, not even a token carrying an empty session_id.
    if (sessionHeader === undefined || payload.session_id !== sessionHeader) {
      return unauthenticated('session_id mismatch');
    }
    return undefined;
  }
}
