import { status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echo, myServiceClient, openSession, subscribe } from './gateway-clients.js';
import { useFaultStack } from './test-support/use-fault-stack.js';

/**
 * Active health checks (issue 12) on real processes: a SIGSTOPped worker answers neither its calls
 * nor `grpc.health.v1.Health/Check`. The gateway must take it out of rotation within 3 check
 * intervals, move its bound session on that session's next call, offer it to no new session while
 * it is frozen, and take it back after `healthy_threshold` passing checks once it is SIGCONTed.
 */

const INTERVAL_MS = 1_000;
const HEALTHY_THRESHOLD = 2;
/** A poll's deadline: a call still routed to the frozen worker gives up after this. */
const POLL_DEADLINE_MS = 200;

const HEALTH_CHECK = {
  interval_ms: INTERVAL_MS,
  timeout_ms: 300,
  unhealthy_threshold: 2,
  healthy_threshold: HEALTHY_THRESHOLD,
};

/** A stack for the enclosing describe, and the workers it froze (thawed at the end whatever happens). */
function healthCheckedStack(workers: number) {
  const fixture = useFaultStack({ workers, workerCluster: { health_check: HEALTH_CHECK } });
  const frozen = new Set<string>();
  let client: MyServiceAPIClient | undefined;
  afterAll(() => {
    for (const pod of frozen) fixture.stack.instance(pod).signal('SIGCONT');
    client?.close();
  });
  return {
    get client(): MyServiceAPIClient {
      client ??= myServiceClient(fixture.stack.gatewayAddress);
      return client;
    },
    freeze(pod: string): void {
      fixture.stack.instance(pod).signal('SIGSTOP');
      frozen.add(pod);
    },
    thaw(pod: string): void {
      fixture.stack.instance(pod).signal('SIGCONT');
      frozen.delete(pod);
    },
  };
}

describe('a SIGSTOPped worker under active health checks', () => {
  const fixture = healthCheckedStack(3);
  let client: MyServiceAPIClient;
  beforeAll(() => {
    client = fixture.client;
  });

  it('is out of rotation within 3 check intervals, its session moves on its next call, and it comes back after SIGCONT', async () => {
    const run = Date.now();
    const bound = await openSession(client, `health-bound-${run}`);
    const first = await echo(client, bound);
    expect(first.code).toBe(status.OK);
    const podA = first.value?.pod_name as string;

    fixture.freeze(podA);
    const stoppedAt = performance.now();
    // The session's calls: they hang on the frozen worker (deadline, which never ejects by itself)
    // until the health checks take it out; the first one after that is answered elsewhere.
    let lastRefusedAt = stoppedAt;
    let moved: Awaited<ReturnType<typeof echo>> | undefined;
    let movedAt = 0;
    while (performance.now() - stoppedAt < 10 * INTERVAL_MS) {
      const sentAt = performance.now();
      const outcome = await echo(client, bound, POLL_DEADLINE_MS, 'poll');
      if (outcome.code === status.OK) {
        moved = outcome;
        movedAt = sentAt;
        break;
      }
      expect(outcome.code).toBe(status.DEADLINE_EXCEEDED);
      lastRefusedAt = sentAt;
    }
    expect(moved, 'the session was never answered by another worker').toBeDefined();
    const podB = moved?.value?.pod_name as string;
    expect(podB).not.toBe(podA);
    expect(moved?.value?.server_session_id).toBe(bound.sessionId);
    // Ejected after the start of the last call that still went to the frozen worker, and before
    // the start of the first that did not.
    const ejectedAfterMs = Math.round(lastRefusedAt - stoppedAt);
    const ejectedByMs = Math.round(movedAt - stoppedAt);
    process.stdout.write(
      `health-checks: frozen worker out of rotation between ${ejectedAfterMs} and ${ejectedByMs} ms after SIGSTOP (interval ${INTERVAL_MS} ms)\n`,
    );
    expect(ejectedByMs).toBeLessThanOrEqual(3 * INTERVAL_MS);
    expect((await echo(client, bound)).value?.pod_name).toBe(podB);

    // While frozen it takes no new session: the third worker takes one, then none is left.
    const second = await openSession(client, `health-second-${run}`);
    const secondEcho = await echo(client, second);
    expect(secondEcho.code).toBe(status.OK);
    expect([podA, podB]).not.toContain(secondEcho.value?.pod_name);
    const third = await openSession(client, `health-third-${run}`);
    expect(await echo(client, third, 2_000)).toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: 'all instances are busy',
    });

    // Thawed, it passes HEALTHY_THRESHOLD checks and is offered again: the waiting session reaches
    // it. The worker itself still holds the session it had before the freeze (workers never
    // release one), so it answers with its own conflict: proof the call was routed to it.
    fixture.thaw(podA);
    const thawedAt = performance.now();
    let reached: Awaited<ReturnType<typeof echo>> | undefined;
    while (performance.now() - thawedAt < 10 * INTERVAL_MS) {
      const outcome = await echo(client, third, 2_000);
      if (outcome.code !== status.RESOURCE_EXHAUSTED) {
        reached = outcome;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const backAfterMs = Math.round(performance.now() - thawedAt);
    process.stdout.write(
      `health-checks: thawed worker back in rotation ${backAfterMs} ms after SIGCONT (healthy_threshold ${HEALTHY_THRESHOLD})\n`,
    );
    expect(reached).toMatchObject({
      code: status.INTERNAL,
      details: `Session conflict: was=${bound.sessionId}, now=${third.sessionId}`,
    });
    expect(backAfterMs).toBeLessThanOrEqual((HEALTHY_THRESHOLD + 2) * INTERVAL_MS);
  });
});

describe('a server stream on a worker that freezes', () => {
  const fixture = healthCheckedStack(2);

  it('moves to the other worker once the checks eject the frozen one, not after the keepalive', async () => {
    const client = fixture.client;
    const session = await openSession(client, `health-stream-${Date.now()}`);
    const stream = subscribe(client, session, 30_000);
    await stream.until((s) => s.messages.length >= 2, 5_000, 'two messages');
    const podA = stream.messages[0]?.pod_name as string;
    const before = stream.messages.length;

    fixture.freeze(podA);
    const frozenAt = performance.now();
    const fromOthers = () => stream.messages.slice(before).filter((m) => m.pod_name !== podA);
    await stream.until(() => fromOthers().length >= 1, 10 * INTERVAL_MS, 'a message from the other worker');
    const movedAfterMs = Math.round(performance.now() - frozenAt);
    process.stdout.write(
      `health-checks: a Subscribe stream on the frozen worker moved ${movedAfterMs} ms after SIGSTOP\n`,
    );
    expect(stream.ended).toBeUndefined();
    expect(fromOthers()[0]).toMatchObject({ index: 0, server_session_id: session.sessionId });
    // The keepalive alone would take 30-40 s; the checks' bound is 3 intervals, plus one
    // Subscribe interval for the first message from the other worker.
    expect(movedAfterMs).toBeLessThanOrEqual(3 * INTERVAL_MS + 1_000);
    stream.call.cancel();
  });
});
