import { status } from '@grpc/grpc-js';
import { checkEchoResponse } from './helpers/echo-helper.js';
import { callEcho, callShutdown } from './helpers/grpc-calls.js';
import { login } from './helpers/login-helper.js';
import { sessionId } from './helpers/session-id.js';
import { check, describeError, expectError, expectOk, expectStatus } from './helpers/status-assertions.js';
import { type ScenarioContext, ScenarioFailure } from './scenario-context.js';

const SERVER_SESSION_NOT_SET = 'Server session is not set';

/**
 * REFERENCE.md 7.3.8. Part 1: Shutdown before any Echo → PERMISSION_DENIED `Server session is not
 * set`. Part 2: with session 2 bound by an Echo, session 3's Shutdown lands on a free worker → the
 * same refusal. The reference passes part 2 early when the Echo finds every worker busy (its
 * gateway unregistered all three in part 1); this gateway relays the refusal without failover
 * (6.10 Rewrite), so on a fresh 3-worker stack the full path is required.
 */
export async function myserviceShutdownErrors(ctx: ScenarioContext): Promise<void> {
  const channel1 = ctx.client();
  const session1 = sessionId('shutdown1');
  const token1 = await login(ctx, channel1, session1);
  expectStatus(
    await callShutdown(channel1, { token: token1, sessionId: session1 }),
    'Shutdown before any Echo',
    status.PERMISSION_DENIED,
    SERVER_SESSION_NOT_SET,
  );

  const channel2 = ctx.client();
  const session2 = sessionId('shutdown2');
  const session3 = sessionId('shutdown3');
  const token2 = await login(ctx, channel1, session2);
  const token3 = await login(ctx, channel2, session3);

  const bound = await callEcho(channel1, { token: token2, sessionId: session2 });
  if (
    !bound.ok &&
    bound.error.code === status.RESOURCE_EXHAUSTED &&
    bound.error.details.includes('all instances are busy')
  ) {
    if (ctx.freshStack) {
      throw new ScenarioFailure(
        `Echo of session 2 on a fresh 3-worker stack: ${describeError(bound.error)}; part 1's refusal must not take workers out of service`,
      );
    }
    ctx.log(
      'Echo of session 2 found every instance busy: passing early, as the reference does on a used stack',
    );
    return;
  }
  const echoed = expectOk(bound, 'Echo of session 2');
  checkEchoResponse('Echo of session 2', echoed);
  ctx.log(`session 2 bound to ${echoed.pod_name}`);

  const refused = await callShutdown(channel2, { token: token3, sessionId: session3 });
  const what = 'Shutdown of session 3 on a worker that does not serve it';
  if (ctx.freshStack) {
    expectStatus(refused, what, status.PERMISSION_DENIED, SERVER_SESSION_NOT_SET);
    return;
  }
  // On a used stack session 3 may land on a worker bound to another session.
  const error = expectError(refused, what);
  check(
    error.code === status.PERMISSION_DENIED,
    `${what}: expected PERMISSION_DENIED, got ${describeError(error)}`,
  );
  const mismatch = error.details.startsWith('Client session mismatch:') && error.details.includes(session3);
  check(
    error.details === SERVER_SESSION_NOT_SET || mismatch,
    `${what}: expected "${SERVER_SESSION_NOT_SET}" or "Client session mismatch: client=${session3}, …", got ${describeError(error)}`,
  );
}
