import { status } from '@grpc/grpc-js';
import { checkEchoResponse } from './helpers/echo-helper.js';
import { callEcho } from './helpers/grpc-calls.js';
import { login } from './helpers/login-helper.js';
import { sessionId } from './helpers/session-id.js';
import { shutdown } from './helpers/shutdown-helper.js';
import { check, describeError } from './helpers/status-assertions.js';
import type { ScenarioContext } from './scenario-context.js';

const CLIENTS = 4;
const WORKERS = 3;

/**
 * REFERENCE.md 7.3.10: four sessions against three workers. Accepted failures are
 * RESOURCE_EXHAUSTED, UNAVAILABLE and INTERNAL `Session conflict…`; at least one client must fail
 * and one succeed, then every successful client shuts its worker down. On a fresh stack the outcome
 * the reference describes is asserted exactly: three successes on three pods, the fourth refused
 * with RESOURCE_EXHAUSTED `all instances are busy`.
 */
export async function systemOverload(ctx: ScenarioContext): Promise<void> {
  const clients = [];
  for (let i = 1; i <= CLIENTS; i++) {
    const client = ctx.client();
    const session = sessionId(`client${i}`);
    clients.push({ client, creds: { token: await login(ctx, client, session), sessionId: session } });
  }

  const served: { index: number; pod: string }[] = [];
  const refused: { index: number; detail: string }[] = [];
  for (const [i, { client, creds }] of clients.entries()) {
    const result = await callEcho(client, creds);
    if (result.ok) {
      checkEchoResponse(`Echo of client ${i + 1}`, result.value);
      served.push({ index: i, pod: result.value.pod_name });
      continue;
    }
    const { code, details } = result.error;
    const accepted =
      code === status.RESOURCE_EXHAUSTED ||
      code === status.UNAVAILABLE ||
      (code === status.INTERNAL && details.includes('Session conflict'));
    check(
      accepted,
      `Echo of client ${i + 1} failed with an unexpected status: ${describeError(result.error)}`,
    );
    refused.push({ index: i, detail: describeError(result.error) });
  }
  ctx.log(
    `served: ${served.map((s) => `client ${s.index + 1} on ${s.pod}`).join(', ') || 'none'}; ` +
      `refused: ${refused.map((r) => `client ${r.index + 1} ${r.detail}`).join(', ') || 'none'}`,
  );
  check(refused.length > 0, 'no client was refused: four sessions cannot fit on three workers');
  check(served.length > 0, 'every client was refused: the stack served nobody');

  if (ctx.freshStack) {
    check(
      served.length === WORKERS,
      `expected ${WORKERS} clients served on a fresh stack, got ${served.length}`,
    );
    check(
      new Set(served.map((s) => s.pod)).size === WORKERS,
      'two sessions share a worker: binding must be exclusive',
    );
    const fourth = refused[0];
    check(
      fourth !== undefined &&
        fourth.index === CLIENTS - 1 &&
        fourth.detail === 'RESOURCE_EXHAUSTED (8) "all instances are busy"',
      `expected client ${CLIENTS} refused with RESOURCE_EXHAUSTED (8) "all instances are busy", got ${fourth ? `client ${fourth.index + 1} ${fourth.detail}` : 'nothing'}`,
    );
  }

  for (const { index, pod } of served) {
    const { client, creds } = clients[index] as (typeof clients)[number];
    try {
      await shutdown(client, creds, pod);
    } catch (error) {
      ctx.log(
        `warning: Shutdown of client ${index + 1}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}
