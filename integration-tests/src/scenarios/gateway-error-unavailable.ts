import { status } from '@grpc/grpc-js';
import { callEcho } from './helpers/grpc-calls.js';
import { login } from './helpers/login-helper.js';
import { sessionId } from './helpers/session-id.js';
import { expectStatus } from './helpers/status-assertions.js';
import { requireDriver, type ScenarioContext } from './scenario-context.js';

/**
 * REFERENCE.md 7.3.12: every worker is stopped gracefully (`docker-compose stop myservice`; they
 * stay registered), so the gateway still knows three dead instances: each attempt fails to connect
 * and the call ends UNAVAILABLE `backend service unavailable`. The reference sleeps 8 s after the
 * stop; here the stop itself waits until every worker process has exited.
 */
export async function gatewayErrorUnavailable(ctx: ScenarioContext): Promise<void> {
  const driver = requireDriver(ctx, 'gateway_error_unavailable');
  const client = ctx.client();
  const session = sessionId('unavailable');
  const token = await login(ctx, client, session);

  await driver.stopAllWorkers();
  ctx.log('stopped every worker (SIGTERM)');
  try {
    expectStatus(
      await callEcho(client, { token, sessionId: session }),
      'Echo with every worker stopped',
      status.UNAVAILABLE,
      'backend service unavailable',
    );
  } finally {
    try {
      await driver.startAllWorkers();
    } catch (error) {
      ctx.log(
        `warning: could not start the workers again: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
