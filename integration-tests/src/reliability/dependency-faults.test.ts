import { status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { waitFor } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedProcessStack } from '../harness/started-process-stack.js';
import { echo, login, myServiceClient, type Outcome, openSession, type Session } from './gateway-clients.js';
import { useFaultStack } from './test-support/use-fault-stack.js';

/**
 * Fault matrix, dependencies (issue 6): auth stopped, the discoverer stopped under load, Redis
 * stopped. Every case checks the exact status a client sees while the part is down, that the answer
 * comes promptly (no waiting on a dead dependency), and that everything recovers without a restart.
 * One stack, cases in order; each leaves its part running again.
 */

/** A dependency failure must be answered well inside a client's patience, not after timeouts pile up. */
const PROMPT_MS = 1_500;

// Every case binds sessions for good (workers never release them): enough workers for all of them.
const fixture = useFaultStack({ workers: 8, discovererIntervalMs: 200, heartbeatMs: 500 });

let stack: StartedProcessStack;
let client: MyServiceAPIClient;
let counter = 0;

beforeAll(async () => {
  stack = fixture.stack;
  client = myServiceClient(stack.gatewayAddress);
});

afterAll(async () => {
  client?.close();
});

function newSession(): Promise<Session> {
  counter++;
  return openSession(client, `dependency-faults-${counter}-${Date.now()}`);
}

/** Echo in a loop for `session` until stopped; every outcome is kept. */
function keepCalling(session: Session) {
  const outcomes: Outcome<{ pod_name: string }>[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      outcomes.push((await echo(client, session, 3_000)) as Outcome<{ pod_name: string }>);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    outcomes,
    stop: async () => {
      running = false;
      await done;
      return outcomes;
    },
  };
}

describe('auth stopped', () => {
  it('Login answers UNAVAILABLE "backend service unavailable" at once, MyService calls go on, and Login recovers', async () => {
    const session = await newSession();
    expect((await echo(client, session)).code).toBe(status.OK);

    await stack.auth.stop();
    const down = await login(client, { session_id: 'auth-down' });
    expect({ code: down.code, details: down.details }).toEqual({
      code: status.UNAVAILABLE,
      details: 'backend service unavailable',
    });
    expect(down.ms).toBeLessThan(PROMPT_MS);
    expect((await echo(client, session)).code).toBe(status.OK);

    await stack.auth.start();
    const back = await waitFor(
      async () => {
        const outcome = await login(client, { session_id: 'auth-back' });
        return outcome.code === status.OK ? outcome : undefined;
      },
      { description: 'Login through the gateway after auth restarted', timeoutMs: 10_000 },
    );
    expect(back.value?.role).toBe('admin');
  });
});

describe('discoverer stopped for a while under load', () => {
  it('bound sessions keep their instances, new sessions use known ones, a dead instance is still transferred from', async () => {
    const steady = await newSession();
    const victim = await newSession();
    const steadyPod = (await echo(client, steady)).value?.pod_name;
    const victimPod = (await echo(client, victim)).value?.pod_name as string;
    const load = keepCalling(steady);
    const recorder = stack.recorder();

    await stack.discoverer.stop();
    const downSince = Date.now();
    await waitFor(() => recorder.failuresSince(downSince) >= 3, {
      description: 'the gateway to fail three discovery refreshes',
    });
    // A new session binds an instance the gateway still knows.
    const newcomer = await newSession();
    expect((await echo(client, newcomer)).code).toBe(status.OK);
    // An instance dying during the outage: its session moves to another known instance.
    await stack.kill(victimPod);
    const moved = await echo(client, victim);
    expect(moved).toMatchObject({ code: status.OK, value: { server_session_id: victim.sessionId } });
    expect(moved.value?.pod_name).not.toBe(victimPod);

    await stack.discoverer.start();
    const backSince = Date.now();
    const added = await stack.add();
    expect(recorder.lists.some((list) => list.startedAt >= backSince)).toBe(true);
    const late = await newSession();
    const lateEcho = await echo(client, late);
    expect(lateEcho.code).toBe(status.OK);

    const outcomes = await load.stop();
    expect(outcomes.length).toBeGreaterThan(10);
    expect(outcomes.filter((o) => o.code !== status.OK)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.value?.pod_name))).toEqual(new Set([steadyPod]));
    await stack.restart(victimPod);
    expect(added).toMatch(/^worker-/);
  });
});

describe('Redis stopped', () => {
  it('Login answers INTERNAL and the discoverer 500 promptly; bound sessions go on; both recover without a restart', async () => {
    // Three sessions on three workers: when the restarted (empty) Redis makes the discoverer forget
    // them for a moment, none may be moved onto another's worker.
    const sessions = [await newSession(), await newSession(), await newSession()];
    const pods = new Map<string, string | undefined>();
    for (const session of sessions)
      pods.set(session.sessionId, (await echo(client, session)).value?.pod_name);
    expect(new Set(pods.values()).size).toBe(3);
    const loads = sessions.map((session) => keepCalling(session));

    await stack.redis.stop();
    const loginDown = await login(client, { session_id: 'redis-down' });
    expect({ code: loginDown.code, details: loginDown.details }).toEqual({
      code: status.INTERNAL,
      details: 'failed to get user',
    });
    expect(loginDown.ms).toBeLessThan(PROMPT_MS);
    const started = performance.now();
    const listing = await fetch(`${stack.discovererUrl}/v1/instances`, {
      signal: AbortSignal.timeout(5_000),
    });
    expect(listing.status).toBe(500);
    expect(await listing.json()).toEqual({
      error: { code: 'internal_server_error', message: 'Redis get keys error' },
    });
    expect(performance.now() - started).toBeLessThan(PROMPT_MS);
    const downSince = Date.now();
    await waitFor(() => stack.recorder().failuresSince(downSince) >= 3, {
      description: 'the gateway to fail three discovery refreshes',
    });

    await stack.redis.start();
    const back = await waitFor(
      async () => {
        const outcome = await login(client, { session_id: 'redis-back' });
        return outcome.code === status.OK ? outcome : undefined;
      },
      { description: 'Login after Redis restarted (TestUser seeded again)', timeoutMs: 10_000 },
    );
    expect(back.value?.role).toBe('admin');
    await waitFor(
      async () =>
        (await fetch(`${stack.discovererUrl}/healthz`, { signal: AbortSignal.timeout(2_000) })).status ===
        200,
      { description: 'the discoverer to answer again' },
    );
    // The restarted Redis is empty: workers come back with their next heartbeat.
    await stack.waitForGatewayToSee(
      stack.pods().filter((p) => stack.running(p)),
      Date.now(),
    );

    for (const [i, load] of loads.entries()) {
      const session = sessions[i] as Session;
      const outcomes = await load.stop();
      const failures = outcomes.filter((o) => o.code !== status.OK);
      expect(failures.map((o) => `${o.code} ${o.details}`)).toEqual([]);
      expect(new Set(outcomes.map((o) => o.value?.pod_name))).toEqual(new Set([pods.get(session.sessionId)]));
      expect(await echo(client, session)).toMatchObject({
        code: status.OK,
        value: { pod_name: pods.get(session.sessionId) },
      });
    }
  });
});
