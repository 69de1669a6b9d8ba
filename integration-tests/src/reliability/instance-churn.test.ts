import { status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { getFreePort, listInstances, waitFor } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedProcessStack } from '../harness/started-process-stack.js';
import { echo, myServiceClient, type Outcome, openSession } from './gateway-clients.js';
import { useFaultStack } from './test-support/use-fault-stack.js';

/**
 * Fault matrix, membership changes (issue 6): an instance restarted with the same instance id on a new
 * port, and instances appearing while load runs. Each case gets a fresh two-worker stack, since the
 * cases count which sessions land where.
 */

const BUSY = { code: status.RESOURCE_EXHAUSTED, details: 'all instances are busy' };

describe('an instance restarted with the same id on a new port', () => {
  const fixture = useFaultStack({ workers: 2 });
  let stack: StartedProcessStack;
  let client: MyServiceAPIClient;

  beforeAll(async () => {
    stack = fixture.stack;
    client = myServiceClient(stack.gatewayAddress);
  });
  afterAll(async () => {
    client?.close();
  });

  it('serves sessions at its new address, and the gateway never unregisters the new process', async () => {
    const first = await openSession(client, `churn-port-1-${Date.now()}`);
    const podA = (await echo(client, first)).value?.pod_name as string;
    const [podB] = stack.pods().filter((pod) => pod !== podA);
    const oldPort = stack.instance(podA).port;

    await stack.kill(podA);
    const restartedAt = Date.now();
    await stack.restart(podA, { newPort: true });
    const newPort = stack.instance(podA).port;
    expect(newPort).not.toBe(oldPort);

    // The first session's instance died between its calls: it goes on, on the new process or on B.
    const again = await echo(client, first);
    expect(again).toMatchObject({ code: status.OK, value: { server_session_id: first.sessionId } });
    // A second session takes the other one: both addresses of the cluster are served.
    const second = await openSession(client, `churn-port-2-${Date.now()}`);
    const other = await echo(client, second);
    expect(other.code).toBe(status.OK);
    expect(new Set([again.value?.pod_name, other.value?.pod_name])).toEqual(new Set([podA, podB]));

    expect(stack.recorder().unregistersOf(podA, restartedAt)).toEqual([]);
    const listed = (await listInstances(stack.discovererUrl)).find((i) => i.instance_id === podA);
    expect(listed?.port).toBe(newPort);
  });
});

describe('an instance restarted on a new port just before its session calls again', () => {
  // A slow refresh and heartbeat keep the window open: the gateway still has the old address when
  // the session calls, and the new process would not re-register for a minute if unregistered.
  const fixture = useFaultStack({ workers: 2, discovererIntervalMs: 3_000, heartbeatMs: 60_000 });
  let stack: StartedProcessStack;
  let client: MyServiceAPIClient;

  beforeAll(async () => {
    stack = fixture.stack;
    client = myServiceClient(stack.gatewayAddress);
  });
  afterAll(() => {
    client?.close();
  });

  it('the old address fails over, and the gateway does not unregister the new process', async () => {
    const first = await openSession(client, `churn-race-${Date.now()}`);
    const podA = (await echo(client, first)).value?.pod_name as string;
    await stack.kill(podA);
    const restartedAt = Date.now();
    await stack.instance(podA).start(await getFreePort());
    const newPort = stack.instance(podA).port;

    const callAt = Date.now();
    const again = await echo(client, first);
    expect(again).toMatchObject({ code: status.OK, value: { server_session_id: first.sessionId } });
    // Let the gateway finish what it does after the failure (at most until its next refresh).
    const recorder = stack.recorder();
    await waitFor(() => recorder.hasApplied(callAt, () => true), { description: 'a refresh after the call' });

    expect(recorder.unregistersOf(podA, restartedAt)).toEqual([]);
    const listed = (await listInstances(stack.discovererUrl)).find((i) => i.instance_id === podA);
    expect(listed?.port).toBe(newPort);
  });
});

describe('instances appearing while load runs', () => {
  const fixture2 = useFaultStack({ workers: 2 });
  let stack: StartedProcessStack;
  let client: MyServiceAPIClient;

  beforeAll(async () => {
    stack = fixture2.stack;
    client = myServiceClient(stack.gatewayAddress);
  });
  afterAll(async () => {
    client?.close();
  });

  it('sessions refused as busy are served by the new instances; nobody moves or shares an instance', async () => {
    const sessions = await Promise.all(
      [1, 2, 3, 4].map((i) => openSession(client, `churn-load-${i}-${Date.now()}`)),
    );
    const outcomes = new Map(sessions.map((s) => [s.sessionId, [] as Outcome<{ pod_name: string }>[]]));
    let running = true;
    const load = sessions.map(async (session) => {
      while (running) {
        const outcome = await echo(client, session, 3_000);
        outcomes.get(session.sessionId)?.push(outcome as Outcome<{ pod_name: string }>);
        if (outcome.code !== status.OK) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });

    const servedSessions = () =>
      [...outcomes.values()].filter((list) => list.some((o) => o.code === status.OK)).length;
    try {
      await waitFor(() => servedSessions() === 2, { description: 'two sessions served by the two workers' });
      await waitFor(
        () => [...outcomes.values()].filter((list) => list.some((o) => o.code !== status.OK)).length === 2,
        { description: 'the other two sessions refused' },
      );
      await stack.add();
      await stack.add();
      await waitFor(() => servedSessions() === 4, {
        description: 'every session served once the new workers are discovered',
        timeoutMs: 10_000,
      });
    } finally {
      running = false;
      await Promise.all(load);
    }

    const pods = new Set<string>();
    for (const [sessionId, list] of outcomes) {
      const failures = list.filter((o) => o.code !== status.OK);
      for (const failure of failures) expect({ code: failure.code, details: failure.details }).toEqual(BUSY);
      const served = new Set(list.filter((o) => o.code === status.OK).map((o) => o.value?.pod_name));
      expect(served.size, `${sessionId} was served by ${[...served].join(', ')}`).toBe(1);
      pods.add([...served][0] as string);
    }
    expect(pods).toEqual(new Set(stack.pods()));
  });
});
