import { status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { type StartedRedis, startRedis, waitFor } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  echo,
  myServiceClient,
  type Outcome,
  openSession,
  type Session,
} from '../reliability/gateway-clients.js';
import { useFaultStack } from '../reliability/test-support/use-fault-stack.js';
import { conflicts, GatewayReplicas, type Replica, redisCli } from './test-support/gateway-replicas.js';

/**
 * Issue 11: three gateway processes over one Redis session store, in front of the same ten workers
 * (real processes, registered with the real discoverer). The stack's own gateway is not used.
 */

const WORKERS = 10;
const GATEWAYS = 3;

describe('gateway replicas sharing exclusive sessions through Redis', () => {
  const fixture = useFaultStack({ workers: WORKERS });
  let store: StartedRedis;
  let gateways: GatewayReplicas;
  let replicas: Replica[];

  beforeAll(async () => {
    store = await startRedis();
    gateways = new GatewayReplicas({ stack: fixture.stack, storeUrl: store.url, name: 'gateway-replica' });
    replicas = gateways.all;
    await gateways.add(GATEWAYS);
  }, 60_000);

  afterAll(async () => {
    await gateways?.close();
    await store?.stop();
  });

  const anyReplica = (): Replica => gateways.any();

  const served = new Map<string, string>();
  const sessions: Session[] = [];

  it('the race: 50 new sessions at once over 3 gateways, 10 free workers → 10 served, 40 busy, 0 conflicts', async () => {
    const stamp = Date.now();
    const opened = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        openSession(replicas[i % GATEWAYS]?.client as MyServiceAPIClient, `race-${stamp}-${i}`),
      ),
    );
    const outcomes = await Promise.all(
      opened.map((session, i) => echo(replicas[i % GATEWAYS]?.client as MyServiceAPIClient, session)),
    );
    const ok = outcomes.filter((outcome) => outcome.code === status.OK);
    const busy = outcomes.filter(
      (outcome) => outcome.code === status.RESOURCE_EXHAUSTED && outcome.details === 'all instances are busy',
    );
    expect(conflicts(outcomes)).toBe(0);
    expect(ok).toHaveLength(WORKERS);
    expect(busy).toHaveLength(50 - WORKERS);
    outcomes.forEach((outcome, i) => {
      if (outcome.code !== status.OK) return;
      const session = opened[i] as Session;
      expect(outcome.value?.server_session_id).toBe(session.sessionId);
      served.set(session.sessionId, outcome.value?.pod_name as string);
      sessions.push(session);
    });
    expect(new Set(served.values()).size).toBe(WORKERS);
  }, 60_000);

  const everyCallThroughARandomGateway = async (rounds: number): Promise<void> => {
    const outcomes: Outcome<{ pod_name: string; server_session_id: string }>[] = [];
    for (let round = 0; round < rounds; round++) {
      outcomes.push(...(await Promise.all(sessions.map((session) => echo(anyReplica().client, session)))));
    }
    expect(conflicts(outcomes)).toBe(0);
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i] as (typeof outcomes)[number];
      const session = sessions[i % sessions.length] as Session;
      expect({ code: outcome.code, details: outcome.details }).toEqual({ code: status.OK, details: '' });
      expect(outcome.value?.pod_name).toBe(served.get(session.sessionId));
      expect(outcome.value?.server_session_id).toBe(session.sessionId);
    }
  };

  it('each call of each session through a random gateway stays on its instance', async () => {
    await everyCallThroughARandomGateway(5);
  }, 60_000);

  it('SIGKILL one gateway mid-traffic: its sessions continue through the others on the same instances', async () => {
    const victim = replicas.pop() as Replica;
    const traffic = everyCallThroughARandomGateway(5);
    await victim.process.kill();
    victim.client.close();
    await traffic;
    await everyCallThroughARandomGateway(3);
    victim.process = await gateways.startProcess(victim.port, GATEWAYS - 1);
    victim.client = myServiceClient(`127.0.0.1:${victim.port}`);
    replicas.push(victim);
  }, 60_000);

  it('restart all gateways: every session returns to the instance that holds it', async () => {
    for (const [i, replica] of replicas.entries()) await gateways.restart(replica, i);
    await everyCallThroughARandomGateway(3);
  }, 60_000);

  it('Redis restarted empty under traffic: bound sessions keep their instances, and the store recovers', async () => {
    // Every gateway has seen every session, so each holds a copy to serve from and to write back.
    for (const replica of replicas)
      await Promise.all(sessions.map((session) => echo(replica.client, session)));
    await store.stop();
    await everyCallThroughARandomGateway(2);
    const stamp = Date.now();
    const session = await openSession(anyReplica().client, `while-down-${stamp}`);
    const refused = await echo(anyReplica().client, session);
    // Every worker is taken, so a new session is refused either way; while the store is away it says so.
    expect(refused.code).toBe(status.UNAVAILABLE);
    expect(refused.details).toMatch(/^session store unavailable/);
    await store.restart();
    await everyCallThroughARandomGateway(2);
    const boundKeys = () =>
      redisCli(store.port, 'HKEYS', 'stickygw:{my_service}:bindings').split('\n').sort();
    const expected = [...served.keys()].sort();
    // Written back by the gateways once they reconnect (their retry waits up to a second).
    await waitFor(() => JSON.stringify(boundKeys()) === JSON.stringify(expected), {
      description: 'every binding re-asserted',
    });
    expect(boundKeys()).toEqual(expected);
    // Each replica reconnects on its own retry schedule: a new session through one still waiting
    // is refused as above, and the next try goes through another (or the same, reconnected).
    let attempt = 0;
    const busy = await waitFor(
      async () => {
        const client = anyReplica().client;
        const outcome = await echo(client, await openSession(client, `after-${stamp}-${attempt++}`));
        return outcome.details.startsWith('session store unavailable') ? undefined : outcome;
      },
      { description: 'a new session answered by a reconnected store' },
    );
    expect({ code: busy.code, details: busy.details }).toEqual({
      code: status.RESOURCE_EXHAUSTED,
      details: 'all instances are busy',
    });
  }, 60_000);
});
