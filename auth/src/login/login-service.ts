import { randomBytes } from 'node:crypto';
import type { LoginRequest__Output, LoginResponse } from '@stickygw/proto';
import { AuthError } from '../auth-error.js';
import type { Logger } from '../logger.js';
import { hashPassword, parseStoredPassword, type StoredPassword, verifyPassword } from '../users/password.js';
import type { UserStore } from '../users/user-store.js';
import type { TokenIssuer } from './token-issuer.js';

export interface LoginServiceDeps {
  readonly users: UserStore;
  readonly tokens: TokenIssuer;
  readonly logger: Logger;
  /** Milliseconds since the epoch; injected so tests can pin the clock. */
  readonly now?: () => number;
  /** Password check; injected so tests can observe it. */
  readonly verifyPassword?: typeof verifyPassword;
}

const INVALID_CREDENTIALS = 'invalid username or password';

/**
 * Upper bound (UTF-8 bytes) of the username and the session id. Both end up in the token, and the
 * token and the session id travel as metadata on every later call; gRPC peers refuse header blocks
 * beyond about 64 KiB, so an unbounded value would yield a token nobody can use.
 */
export const MAX_LOGIN_FIELD_BYTES = 1024;

/** What a grpc-js client accepts as an ASCII metadata value (the `session-id` header). */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Login as REFERENCE.md 3.2: the checks run in the reference's order and the first failing one
 * answers. Nothing is trimmed and the password may be empty. Failures are {@link AuthError}s.
 */
export class LoginService {
  private readonly now: () => number;
  private readonly verify: typeof verifyPassword;
  /** A hash of a random password, checked for unknown users; created on first use. */
  private decoy: Promise<StoredPassword> | undefined;

  constructor(private readonly deps: LoginServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.verify = deps.verifyPassword ?? verifyPassword;
  }

  async login(request: LoginRequest__Output | null | undefined): Promise<LoginResponse> {
    if (request === null || request === undefined) throw new AuthError('bad_parameter', 'request is nil');
    if (request.username === '') throw new AuthError('bad_parameter', 'username is required');
    if (request.session_id === '') throw new AuthError('bad_parameter', 'session_id is required');
    // Stricter than the reference, and checked after its checks so that its messages still win.
    if (Buffer.byteLength(request.username) > MAX_LOGIN_FIELD_BYTES) {
      throw new AuthError('bad_parameter', `username must be at most ${MAX_LOGIN_FIELD_BYTES} bytes`);
    }
    if (Buffer.byteLength(request.session_id) > MAX_LOGIN_FIELD_BYTES) {
      throw new AuthError('bad_parameter', `session_id must be at most ${MAX_LOGIN_FIELD_BYTES} bytes`);
    }
    if (!PRINTABLE_ASCII.test(request.session_id)) {
      throw new AuthError('bad_parameter', 'session_id must be printable ASCII');
    }

    const { users, tokens, logger } = this.deps;
    let user: Awaited<ReturnType<UserStore['findUser']>>;
    try {
      user = await users.findUser(request.username);
    } catch (error) {
      logger.warn({ err: error }, 'user lookup failed');
      throw new AuthError('internal_server_error', 'failed to get user', { cause: error });
    }
    if (user === undefined) {
      // Spend the same scrypt work as for a wrong password, so response times do not tell which
      // usernames exist.
      this.decoy ??= hashPassword(randomBytes(16).toString('base64')).then(parseStoredPassword);
      await this.verify(await this.decoy, request.password);
      throw new AuthError('invalid_user_or_password', INVALID_CREDENTIALS);
    }
    if (!(await this.verify(user.password, request.password))) {
      throw new AuthError('invalid_user_or_password', INVALID_CREDENTIALS);
    }

    let issued: Awaited<ReturnType<TokenIssuer['issue']>>;
    try {
      issued = await tokens.issue(
        { login: request.username, role: user.role, sessionId: request.session_id },
        this.now(),
      );
    } catch (error) {
      logger.error({ err: error }, 'token creation failed');
      throw new AuthError('internal_server_error', 'failed to create token', { cause: error });
    }
    return {
      token: issued.token,
      expires_at: { seconds: issued.expiresAtSeconds, nanos: 0 },
      role: user.role,
    };
  }
}
