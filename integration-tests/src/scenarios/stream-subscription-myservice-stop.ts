import { status } from '@grpc/grpc-js';
import type { EchoResponse__Output } from '@stickygw/proto';
import { ECHO_VALUE } from './helpers/constants.js';
import { checkEchoResponse, echo } from './helpers/echo-helper.js';
import { openSubscribe } from './helpers/grpc-calls.js';
import { login } from './helpers/login-helper.js';
import { sessionId } from './helpers/session-id.js';
import { check, describeError } from './helpers/status-assertions.js';
import type { StreamEvent } from './helpers/stream-reader.js';
import { requireDriver, type ScenarioContext } from './scenario-context.js';

/** Longest wait for one stream message, including a session transfer. */
const MESSAGE_TIMEOUT_MS = 20_000;

/**
 * REFERENCE.md 7.3.5: a stream's worker is SIGKILLed (`docker kill`); the gateway transfers the
 * stream, so the next message the client receives comes from a different pod, without an error.
 */
export async function streamSubscriptionMyserviceStop(ctx: ScenarioContext): Promise<void> {
  const driver = requireDriver(ctx, 'stream_subscription_myservice_stop');
  const pods = await driver.workerPods();
  check(pods.length >= 2, `need at least 2 myservice containers for transfer scenario, got ${pods.length}`);

  const client = ctx.client();
  const session = sessionId('sub-stop');
  const creds = { token: await login(ctx, client, session), sessionId: session };
  const podA = await echo(client, creds);
  ctx.log(`session bound to ${podA}`);

  const reader = openSubscribe(client, creds, ECHO_VALUE);
  try {
    const first = await reader.next(MESSAGE_TIMEOUT_MS);
    check(first.kind === 'message', `Subscribe: expected the first message, got ${describeEvent(first)}`);
    check(
      first.message.server_method === 'MyServiceSubscribe',
      `Subscribe: server_method ${JSON.stringify(first.message.server_method)}`,
    );
    checkEchoResponse('Subscribe, first message', first.message, podA);

    // Killed right after a message: the pod's next one is a whole SUBSCRIBE_INTERVAL_MS away, so
    // nothing it sends can still be on its way once it is dead.
    const killedAt = Date.now();
    await driver.killWorker(podA);
    ctx.log(`killed ${podA} (SIGKILL) while it served the stream`);

    let next = await reader.next(MESSAGE_TIMEOUT_MS);
    // Only a message that had already arrived before the kill may still come from podA.
    while (next.kind === 'message' && next.receivedAt < killedAt && next.message.pod_name === podA) {
      ctx.log(`message ${next.message.index} from ${podA} arrived before the kill`);
      next = await reader.next(MESSAGE_TIMEOUT_MS);
    }
    if (next.kind === 'error' && next.error.code === status.UNAVAILABLE) {
      check(false, `stream transfer failed, got UNAVAILABLE: ${next.error.details}`);
    }
    check(
      next.kind === 'message',
      `after killing ${podA}: expected the next stream message, got ${describeEvent(next)}`,
    );
    const message = next.message;
    check(
      message.client_value === ECHO_VALUE,
      `after the transfer: client_value ${JSON.stringify(message.client_value)}`,
    );
    check(
      message.server_method === 'MyServiceSubscribe',
      `after the transfer: server_method ${JSON.stringify(message.server_method)}`,
    );
    check(message.pod_name !== '', 'after the transfer: empty pod_name');
    check(
      message.pod_name !== podA,
      `after the transfer: the next message still came from the killed pod ${podA}`,
    );
    ctx.log(`the stream continued on ${message.pod_name} (index ${message.index})`);
  } finally {
    reader.cancel();
  }

  try {
    await driver.startWorker(podA);
  } catch (error) {
    ctx.log(
      `warning: could not start ${podA} again: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function describeEvent(event: StreamEvent<EchoResponse__Output>): string {
  switch (event.kind) {
    case 'message':
      return `a message from ${event.message.pod_name}`;
    case 'end':
      return 'the end of the stream';
    case 'error':
      return `an error ${describeError(event.error)}`;
    case 'timeout':
      return `nothing within ${MESSAGE_TIMEOUT_MS} ms`;
  }
}
