import type { MyServiceAPIClient } from '@stickygw/proto';
import type { ScenarioContext } from '../scenario-context.js';
import { callLogin } from './grpc-calls.js';
import { check, expectOk } from './status-assertions.js';

/**
 * Login with the context's credentials (REFERENCE.md 7.2): the token must be non-empty,
 * `expires_at` present and `role` non-empty. Returns the token.
 */
export async function login(
  ctx: ScenarioContext,
  client: MyServiceAPIClient,
  sessionId: string,
): Promise<string> {
  const response = expectOk(
    await callLogin(client, { username: ctx.username, password: ctx.password, session_id: sessionId }),
    `Login (session ${sessionId})`,
  );
  check(response.token !== '', `Login (session ${sessionId}): empty token`);
  check(response.expires_at !== null, `Login (session ${sessionId}): no expires_at`);
  check(response.role !== '', `Login (session ${sessionId}): empty role`);
  return response.token;
}
