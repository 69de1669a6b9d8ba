import type { EchoResponse__Output, MyServiceAPIClient } from '@stickygw/proto';
import type { ScenarioContext } from '../scenario-context.js';
import { ECHO_VALUE, SERVER_VALUE } from './constants.js';
import { type Credentials, openSubscribe } from './grpc-calls.js';
import { check, describeError } from './status-assertions.js';

export interface SubscribeOutcome {
  readonly podName: string;
  readonly messages: readonly EchoResponse__Output[];
}

/** Longest wait for one stream message; the reference's interval is 5 s, tests use far less. */
const MESSAGE_TIMEOUT_MS = 15_000;

/**
 * `MyServiceSubscribe`, reading up to `count` messages with the reference helper's rules
 * (REFERENCE.md 7.2): every message carries the sent value, `my_service`, non-empty session ids,
 * index 0, 1, 2, … in order, the expected `server_method` and one constant pod. The stream is
 * cancelled after `count` messages. An early end or error is tolerated as the reference does
 * (end after ≥ 1 message, error after ≥ 2), and reported through `ctx.log`.
 */
export async function subscribe(
  ctx: ScenarioContext,
  client: MyServiceAPIClient,
  creds: Credentials,
  count: number,
): Promise<SubscribeOutcome> {
  const what = `Subscribe (session ${creds.sessionId ?? 'none'})`;
  const reader = openSubscribe(client, creds, ECHO_VALUE);
  const messages: EchoResponse__Output[] = [];
  try {
    while (messages.length < count) {
      const event = await reader.next(MESSAGE_TIMEOUT_MS);
      if (event.kind === 'timeout') {
        check(false, `${what}: no message ${messages.length} within ${MESSAGE_TIMEOUT_MS} ms`);
      } else if (event.kind === 'end') {
        check(messages.length > 0, `${what}: the stream ended before its first message`);
        ctx.log(`${what}: the stream ended after ${messages.length} message(s)`);
        break;
      } else if (event.kind === 'error') {
        check(
          messages.length >= 2 || (ctx.signal.aborted && messages.length >= 1),
          `${what}: the stream failed after ${messages.length} message(s): ${describeError(event.error)}`,
        );
        ctx.log(
          `${what}: the stream failed after ${messages.length} message(s): ${describeError(event.error)}`,
        );
        break;
      } else {
        const message = event.message;
        const label = `${what}, message ${messages.length}`;
        check(
          message.client_value === ECHO_VALUE,
          `${label}: client_value ${JSON.stringify(message.client_value)}`,
        );
        check(
          message.server_value === SERVER_VALUE,
          `${label}: server_value ${JSON.stringify(message.server_value)}`,
        );
        check(message.client_session_id !== '', `${label}: empty client_session_id`);
        check(message.server_session_id !== '', `${label}: empty server_session_id`);
        check(
          message.index === messages.length,
          `${label}: index ${message.index}, expected ${messages.length}`,
        );
        check(
          message.server_method === 'MyServiceSubscribe',
          `${label}: server_method ${JSON.stringify(message.server_method)}, expected "MyServiceSubscribe"`,
        );
        check(message.pod_name !== '', `${label}: empty pod_name`);
        const first = messages[0];
        check(
          first === undefined || message.pod_name === first.pod_name,
          `${label}: pod_name changed from ${first?.pod_name} to ${message.pod_name}`,
        );
        messages.push(message);
      }
    }
  } finally {
    reader.cancel();
  }
  return { podName: (messages[0] as EchoResponse__Output).pod_name, messages };
}
