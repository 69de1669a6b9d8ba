import { echo } from './helpers/echo-helper.js';
import { login } from './helpers/login-helper.js';
import { sessionId } from './helpers/session-id.js';
import { shutdown } from './helpers/shutdown-helper.js';
import { awaitWorkerExit } from './helpers/worker-exit.js';
import type { ScenarioContext } from './scenario-context.js';

/**
 * REFERENCE.md 7.3.1: Login → 10 Echo calls all answered by the pod of the first → Shutdown of
 * that pod, which then exits (checked when a driver can see the process).
 */
export async function basicWorkflow(ctx: ScenarioContext): Promise<void> {
  const client = ctx.client();
  const session = sessionId();
  const token = await login(ctx, client, session);
  const creds = { token, sessionId: session };

  const pod = await echo(client, creds);
  ctx.log(`session ${session} is served by ${pod}`);
  for (let call = 2; call <= 10; call++) await echo(client, creds, pod);

  await shutdown(client, creds, pod);
  await awaitWorkerExit(ctx, pod);
}
