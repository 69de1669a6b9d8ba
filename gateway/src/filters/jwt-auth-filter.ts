import { firstMetadataValue } from '../grpc/metadata.js';
import type { RequestHeaders } from '../grpc/request-headers.js';
import { GatewayMessage, Status } from '../grpc/status.js';
import type { CallContext, FilterDecision, HeaderFilter } from './header-filter.js';
import { CONTINUE } from './header-filter.js';
import type { TokenValidator } from './hs256-token-validator.js';

const MISSING_SESSION_ID: FilterDecision = Object.freeze({
  action: 'reject',
  code: Status.UNAUTHENTICATED,
  message: GatewayMessage.missingSessionId,
});

const INVALID_TOKEN: FilterDecision = Object.freeze({
  action: 'reject',
  code: Status.UNAUTHENTICATED,
  message: GatewayMessage.missingOrInvalidToken,
});

/**
 * Beyond the reference, which takes the whole `authorization` value as the token: an optional
 * `Bearer ` scheme (any case), as most gRPC clients send it, is stripped first.
 */
const BEARER_PREFIX = /^bearer\s+/i;

/**
 * Per-route JWT authorisation (REFERENCE.md 6.5), only on routes with `authorization: required`;
 * the default route is always `none`. Checks, the first failure answering:
 * 1. `session-id` missing or empty → UNAUTHENTICATED `missing session-id` (before the token);
 * 2. `authorization` missing, empty or blank → UNAUTHENTICATED `missing or invalid token`;
 * 3. the (trimmed) token is invalid for any reason, including a `session_id` claim other than the
 *    `session-id` header → the same message;
 * 4. the validator throws (only a custom one can) → INTERNAL with its error text.
 * The filter changes no header (the route decides what reaches the backend); no message ever
 * contains the token.
 */
export class JwtAuthFilter implements HeaderFilter {
  readonly name = 'jwt_auth';

  constructor(
    private readonly validator: TokenValidator,
    private readonly clock: () => number = Date.now,
  ) {}

  apply(headers: RequestHeaders, ctx: CallContext): FilterDecision {
    if (ctx.route.authorization !== 'required') {
      return CONTINUE;
    }
    const sessionId = firstMetadataValue(headers, 'session-id');
    if (sessionId === undefined) {
      return MISSING_SESSION_ID;
    }
    const token = bearerToken(firstMetadataValue(headers, 'authorization'));
    if (token === undefined) {
      return INVALID_TOKEN;
    }
    let valid: boolean;
    try {
      valid = this.validator.validate(token, sessionId, this.clock());
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      return { action: 'reject', code: Status.INTERNAL, message: text.split(token).join('<redacted>') };
    }
    return valid ? CONTINUE : INVALID_TOKEN;
  }
}

function bearerToken(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let token = value.trim();
  // Only a value starting with b/B can carry the scheme: a bare token skips the regular expression.
  if ((token.charCodeAt(0) | 0x20) === 98 /* b */) token = token.replace(BEARER_PREFIX, '');
  return token ? token : undefined;
}
