import { echo } from './helpers/echo-helper.js';
import { login } from './helpers/login-helper.js';
import { sessionId } from './helpers/session-id.js';
import { shutdown } from './helpers/shutdown-helper.js';
import { check } from './helpers/status-assertions.js';
import { awaitWorkerExit } from './helpers/worker-exit.js';
import type { ScenarioContext } from './scenario-context.js';

/**
 * REFERENCE.md 7.3.3: two clients on their own channels, ten interleaved Echo rounds, each client
 * always on its own first pod, and the two pods distinct (exclusive binding); then both Shutdown.
 */
export async function stickySession(ctx: ScenarioContext): Promise<void> {
  const client1 = ctx.client();
  const client2 = ctx.client();
  const session1 = sessionId('client1');
  const session2 = sessionId('client2');
  const creds1 = { token: await login(ctx, client1, session1), sessionId: session1 };
  const creds2 = { token: await login(ctx, client2, session2), sessionId: session2 };

  let pod1: string | undefined;
  let pod2: string | undefined;
  for (let round = 1; round <= 10; round++) {
    pod1 = await echo(client1, creds1, pod1);
    pod2 = await echo(client2, creds2, pod2);
  }
  if (pod1 === undefined || pod2 === undefined) throw new Error('unreachable: ten rounds ran');
  ctx.log(`client1 on ${pod1}, client2 on ${pod2}`);
  check(pod1 !== pod2, `both clients are on the same instance ${pod1}: sessions must be bound exclusively`);

  await shutdown(client1, creds1, pod1);
  await shutdown(client2, creds2, pod2);
  await awaitWorkerExit(ctx, pod1);
  await awaitWorkerExit(ctx, pod2);
}
