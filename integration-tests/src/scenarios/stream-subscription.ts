import { login } from './helpers/login-helper.js';
import { sessionId } from './helpers/session-id.js';
import { shutdown } from './helpers/shutdown-helper.js';
import { check } from './helpers/status-assertions.js';
import { subscribe } from './helpers/subscribe-helper.js';
import { awaitWorkerExit } from './helpers/worker-exit.js';
import type { ScenarioContext } from './scenario-context.js';

/** The reference gives the Shutdown after the stream 5 s. */
const SHUTDOWN_TIMEOUT_MS = 5_000;

/**
 * REFERENCE.md 7.3.4: three stream messages (index 0, 1, 2, one pod), the client cancels, then
 * Shutdown. The reference tolerates a failing Shutdown because it treats the cancellation as a
 * backend failure; this gateway does not (6.10 Rewrite), so Shutdown must succeed on the same pod.
 */
export async function streamSubscription(ctx: ScenarioContext): Promise<void> {
  const client = ctx.client();
  const session = sessionId();
  const creds = { token: await login(ctx, client, session), sessionId: session };

  const stream = await subscribe(ctx, client, creds, 3);
  check(stream.messages.length === 3, `Subscribe: expected 3 messages, got ${stream.messages.length}`);
  ctx.log(`stream served by ${stream.podName}; cancelled after 3 messages`);

  await shutdown(client, creds, stream.podName, SHUTDOWN_TIMEOUT_MS);
  await awaitWorkerExit(ctx, stream.podName);
}
