import { status } from '@grpc/grpc-js';
import { callEcho, callLogin } from './helpers/grpc-calls.js';
import { login } from './helpers/login-helper.js';
import { sessionId } from './helpers/session-id.js';
import { expectOk, expectStatus } from './helpers/status-assertions.js';
import type { ScenarioContext } from './scenario-context.js';

/** REFERENCE.md 7.3.11: the gateway's own UNAUTHENTICATED answers, messages compared exactly. */
export async function gatewayErrorUnauthenticated(ctx: ScenarioContext): Promise<void> {
  const client = ctx.client();
  const credentials = { username: ctx.username, password: ctx.password };

  // Case 1: no session at all.
  expectStatus(
    await callLogin(client, { ...credentials, session_id: '' }),
    'case 1: Login with an empty session_id',
    status.INVALID_ARGUMENT,
    'session_id is required',
  );
  expectStatus(
    await callEcho(client, {}),
    'case 1: Echo without metadata',
    status.UNAUTHENTICATED,
    'missing session-id',
  );

  // Case 2: a session id but no token.
  const session2 = sessionId('case2');
  expectOk(await callLogin(client, { ...credentials, session_id: session2 }), 'case 2: Login');
  expectStatus(
    await callEcho(client, { sessionId: session2 }),
    'case 2: Echo with only session-id',
    status.UNAUTHENTICATED,
    'missing or invalid token',
  );

  // Case 3: a token but no session id.
  expectStatus(
    await callLogin(client, { ...credentials, session_id: '' }),
    'case 3: Login with an empty session_id',
    status.INVALID_ARGUMENT,
  );
  const token3 = await login(ctx, client, sessionId('case3'));
  expectStatus(
    await callEcho(client, { token: token3 }),
    'case 3: Echo with only authorization',
    status.UNAUTHENTICATED,
    'missing session-id',
  );

  // Case 4: a malformed token.
  expectStatus(
    await callEcho(client, { token: 'invalid_token_format', sessionId: sessionId('case4') }),
    'case 4: Echo with a malformed token',
    status.UNAUTHENTICATED,
    'missing or invalid token',
  );
}
