import { status } from '@grpc/grpc-js';
import { echo } from './helpers/echo-helper.js';
import { callEcho } from './helpers/grpc-calls.js';
import { login } from './helpers/login-helper.js';
import { sessionId } from './helpers/session-id.js';
import { check, expectStatus } from './helpers/status-assertions.js';
import type { ScenarioContext } from './scenario-context.js';

const WORKERS = 3;

/**
 * REFERENCE.md 7.3.9: three sessions take the three workers (one each: exclusive binding), the
 * fourth new session gets RESOURCE_EXHAUSTED `all instances are busy`.
 */
export async function noInstancesAvailable(ctx: ScenarioContext): Promise<void> {
  if (ctx.driver !== null) {
    const pods = await ctx.driver.workerPods();
    check(
      pods.length === WORKERS,
      `no_instances_available needs exactly ${WORKERS} workers, the stack has ${pods.length}`,
    );
  }
  const clients = Array.from({ length: WORKERS + 1 }, (_, i) => {
    const session = sessionId(`noinst-${i + 1}`);
    return { client: ctx.client(), session };
  });
  const tokens = [];
  for (const { client, session } of clients) tokens.push(await login(ctx, client, session));

  const pods = new Set<string>();
  for (let i = 0; i < WORKERS; i++) {
    const { client, session } = clients[i] as (typeof clients)[number];
    const pod = await echo(client, { token: tokens[i] as string, sessionId: session });
    check(!pods.has(pod), `client ${i + 1} was given ${pod}, which already serves another session`);
    pods.add(pod);
  }
  ctx.log(`clients 1-${WORKERS} hold ${[...pods].join(', ')}`);

  const last = clients[WORKERS] as (typeof clients)[number];
  expectStatus(
    await callEcho(last.client, { token: tokens[WORKERS] as string, sessionId: last.session }),
    `Echo of client ${WORKERS + 1} with every worker bound`,
    status.RESOURCE_EXHAUSTED,
    'all instances are busy',
  );
}
