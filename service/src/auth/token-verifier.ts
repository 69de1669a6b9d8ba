import { status } from '@grpc/grpc-js';
import { errors, jwtVerify } from 'jose';
import type { RpcError } from '../grpc/rpc-error.js';

const unauthenticated = (message: string): RpcError => ({ code: status.UNAUTHENTICATED, message });

/**
 * The worker's own check of the auth service's HS256 JWT (REFERENCE.md 5.4, rewrite note): only
 * HS256, `exp` required, signature checked before any claim. Every failure is UNAUTHENTICATED with
 * one of the reference messages; structural failures of any kind read `invalid token format`.
 * During a secret rotation (`JWT_SECRET_PREVIOUS`) a token signed with the previous secret passes
 * too; once that secret is removed it reads `invalid token signature`.
 */
export class TokenVerifier {
  /** The current secret's key first, then the previous one's. */
  readonly #keys: readonly Uint8Array[];
  readonly #now: () => number;

  /** `now` returns epoch milliseconds; tests inject it to probe the expiry boundary. */
  constructor(secret: string, now: () => number = Date.now, previousSecret?: string) {
    const encoder = new TextEncoder();
    this.#keys = [secret, ...(previousSecret === undefined ? [] : [previousSecret])].map((text) =>
      encoder.encode(text),
    );
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
    let payload: Record<string, unknown> | undefined;
    for (const key of this.#keys) {
      try {
        // jose treats a token as expired when exp <= floor(currentDate / 1 s). Handing it "now - 1 ms"
        // turns that into exp * 1000 < now for integer exp, i.e. expired only when now is strictly
        // after exp, as the reference requires. The check below covers fractional exp values.
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          requiredClaims: ['exp'],
          currentDate: new Date(nowMs - 1),
        }));
        break;
      } catch (error) {
        // Only a signature another key may have made is worth a second try.
        if (error instanceof errors.JWSSignatureVerificationFailed) continue;
        if (error instanceof errors.JWTExpired) return unauthenticated('token expired');
        return unauthenticated('invalid token format');
      }
    }
    if (payload === undefined) return unauthenticated('invalid token signature');
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
