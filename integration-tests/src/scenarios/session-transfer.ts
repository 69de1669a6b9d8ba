import { status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { checkEchoResponse } from './helpers/echo-helper.js';
import { type Credentials, callEcho } from './helpers/grpc-calls.js';
import { login } from './helpers/login-helper.js';
import { sessionId } from './helpers/session-id.js';
import { shutdown } from './helpers/shutdown-helper.js';
import { check, codeName, describeError } from './helpers/status-assertions.js';
import { awaitWorkerExit } from './helpers/worker-exit.js';
import type { ScenarioContext } from './scenario-context.js';

/** How long one step may keep polling (the reference retried 5 times, 2 s apart). */
const STEP_DEADLINE_MS = 10_000;
const POLL_INTERVAL_MS = 100;

const pause = () => new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));

/**
 * REFERENCE.md 7.3.6: one session outlives three workers. Each round Echo twice (same pod, a pod
 * not used before), then Shutdown that pod; once all three are gone the next Echo must fail with
 * UNAVAILABLE or RESOURCE_EXHAUSTED. The reference's 3 s sleeps become waits for the worker to exit.
 */
export async function sessionTransfer(ctx: ScenarioContext): Promise<void> {
  const client = ctx.client();
  const session = sessionId('transfer');
  const creds = { token: await login(ctx, client, session), sessionId: session };
  const used: string[] = [];

  for (let round = 1; round <= 3; round++) {
    const pod = await echoTwice(ctx, client, creds, used);
    check(
      !used.includes(pod),
      `session not transferred: round ${round} is served by ${pod}, already used (${used.join(', ')})`,
    );
    ctx.log(`round ${round}: session served by ${pod}`);
    used.push(pod);
    await shutdown(client, creds, pod);
    await awaitWorkerExit(ctx, pod);
  }

  const deadline = Date.now() + STEP_DEADLINE_MS;
  for (;;) {
    const result = await callEcho(client, creds);
    if (!result.ok) {
      const { code } = result.error;
      check(
        code === status.UNAVAILABLE || code === status.RESOURCE_EXHAUSTED,
        `Echo with every worker gone: expected ${codeName(status.UNAVAILABLE)} or ${codeName(status.RESOURCE_EXHAUSTED)}, got ${describeError(result.error)}`,
      );
      ctx.log(`with every worker gone Echo fails with ${describeError(result.error)}`);
      return;
    }
    // Without a driver the last pod's exit cannot be observed: it may still answer for ~200 ms.
    const stillExiting =
      ctx.driver === null && result.value.pod_name === used.at(-1) && Date.now() < deadline;
    check(stillExiting, `Echo with every worker gone succeeded on ${result.value.pod_name}`);
    await pause();
  }
}

/**
 * Two Echo calls answered by the same pod, which must not be one of `used` (the session moved).
 * Each call is retried while it fails with UNAVAILABLE, as the reference does; any other error fails.
 */
async function echoTwice(
  ctx: ScenarioContext,
  client: MyServiceAPIClient,
  creds: Credentials,
  used: readonly string[],
): Promise<string> {
  const pod = await echoRetryingUnavailable(ctx, client, creds, used);
  await echoRetryingUnavailable(ctx, client, creds, used, pod);
  return pod;
}

async function echoRetryingUnavailable(
  ctx: ScenarioContext,
  client: MyServiceAPIClient,
  creds: Credentials,
  used: readonly string[],
  expectedPod?: string,
): Promise<string> {
  const what = `Echo (session ${creds.sessionId})`;
  const deadline = Date.now() + STEP_DEADLINE_MS;
  for (;;) {
    const result = await callEcho(client, creds);
    if (!result.ok) {
      check(
        result.error.code === status.UNAVAILABLE && Date.now() < deadline,
        `${what} failed: ${describeError(result.error)}`,
      );
      ctx.log(`${what}: ${describeError(result.error)}, retrying`);
      await pause();
      continue;
    }
    const pod = result.value.pod_name;
    // Without a driver the previous pod's exit cannot be observed: it may still answer for ~200 ms.
    if (ctx.driver === null && pod === used.at(-1) && Date.now() < deadline) {
      await pause();
      continue;
    }
    checkEchoResponse(what, result.value, expectedPod);
    return pod;
  }
}
