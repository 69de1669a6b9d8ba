import { status } from '@grpc/grpc-js';
import { callLogin } from './helpers/grpc-calls.js';
import { sessionId } from './helpers/session-id.js';
import { expectStatus } from './helpers/status-assertions.js';
import type { ScenarioContext } from './scenario-context.js';

/**
 * REFERENCE.md 7.3.2: the four Login refusals, through the gateway. The reference checks only the
 * codes; its documents promise the auth service's exact messages (3.2), so those are asserted too.
 */
export async function loginErrors(ctx: ScenarioContext): Promise<void> {
  const client = ctx.client();
  const session = sessionId();

  expectStatus(
    await callLogin(client, { username: '', password: 'password', session_id: session }),
    'Login with an empty username',
    status.INVALID_ARGUMENT,
    'username is required',
  );
  expectStatus(
    await callLogin(client, { username: ctx.username, password: ctx.password, session_id: '' }),
    'Login with an empty session_id',
    status.INVALID_ARGUMENT,
    'session_id is required',
  );
  expectStatus(
    await callLogin(client, {
      username: 'nonexistent_user_12345',
      password: 'password',
      session_id: session,
    }),
    'Login of an unknown user',
    status.PERMISSION_DENIED,
    'invalid username or password',
  );
  expectStatus(
    await callLogin(client, {
      username: ctx.username,
      password: 'wrong_password_12345',
      session_id: session,
    }),
    'Login with a wrong password',
    status.PERMISSION_DENIED,
    'invalid username or password',
  );
}
