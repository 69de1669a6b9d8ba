import { status } from '@grpc/grpc-js';
import { checkEchoResponse } from './helpers/echo-helper.js';
import { callEcho } from './helpers/grpc-calls.js';
import { login } from './helpers/login-helper.js';
import { sessionId } from './helpers/session-id.js';
import { signToken } from './helpers/sign-token.js';
import { describeError, expectStatus } from './helpers/status-assertions.js';
import { type ScenarioContext, ScenarioFailure } from './scenario-context.js';

const MISSING_SESSION_ID = 'missing session-id';
const MISSING_OR_INVALID_TOKEN = 'missing or invalid token';

/**
 * REFERENCE.md 7.3.7: MyServiceEcho with bad credentials, answered by the gateway's auth check
 * (6.5). The reference asserts codes only and skips the expired token; here every case asserts the
 * exact message, and the expired case sends a really expired token signed with the stack's secret —
 * next to a control token signed the same way but still valid, which must be accepted, so the
 * refusal can only be due to the expiry.
 */
export async function myserviceAuthenticationErrors(ctx: ScenarioContext): Promise<void> {
  const client = ctx.client();

  expectStatus(
    await callEcho(client, {}),
    'Echo without any metadata',
    status.UNAUTHENTICATED,
    MISSING_SESSION_ID,
  );

  expectStatus(
    await callEcho(client, { token: 'invalid_token_format_12345', sessionId: 'session-123' }),
    'Echo with a malformed token',
    status.UNAUTHENTICATED,
    MISSING_OR_INVALID_TOKEN,
  );

  const now = Math.floor(Date.now() / 1000);
  const controlSession = sessionId('signed');
  const control = await signToken(ctx.jwtSecret, {
    login: ctx.username,
    role: 'admin',
    sessionId: controlSession,
    issuedAt: now,
    expiresAt: now + 3600,
  });
  const accepted = await callEcho(client, { token: control, sessionId: controlSession });
  if (!accepted.ok) {
    throw new ScenarioFailure(
      `Echo with a valid token signed by the scenario was refused (${describeError(accepted.error)}): ` +
        "the scenario signs with the JWT secret it was given, which must be the stack's (JWT_SECRET)",
    );
  }
  checkEchoResponse('Echo with a valid self-signed token', accepted.value);

  const expiredSession = sessionId('expired');
  const expired = await signToken(ctx.jwtSecret, {
    login: ctx.username,
    role: 'admin',
    sessionId: expiredSession,
    issuedAt: now - 7200,
    expiresAt: now - 3600,
  });
  expectStatus(
    await callEcho(client, { token: expired, sessionId: expiredSession }),
    'Echo with a token that expired an hour ago',
    status.UNAUTHENTICATED,
    MISSING_OR_INVALID_TOKEN,
  );

  const session1 = sessionId('session1');
  const session2 = sessionId('session2');
  const token1 = await login(ctx, client, session1);
  expectStatus(
    await callEcho(client, { token: token1, sessionId: session2 }),
    'Echo with the token of another session',
    status.UNAUTHENTICATED,
    MISSING_OR_INVALID_TOKEN,
  );

  const session = sessionId();
  const token = await login(ctx, client, session);
  expectStatus(
    await callEcho(client, { token }),
    'Echo with a valid token but no session-id',
    status.UNAUTHENTICATED,
    MISSING_SESSION_ID,
  );
}
