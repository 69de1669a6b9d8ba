import { status } from '@grpc/grpc-js';
import { startRedisCluster } from '@stickygw/testkit';
import { describe, expect, it } from 'vitest';
import { echo, type Session } from '../reliability/gateway-clients.js';
import {
  callEverySession,
  echoAccessLog,
  expectEveryCallOnItsInstance,
  expectRaceResult,
  type RaceResult,
  type Replica,
  raceNewSessions,
  redisCli,
  useGatewayReplicas,
} from './test-support/gateway-replicas.js';

/**
 * Issue 11 against a three-master Redis Cluster started locally: three gateways whose store URL is
 * `redis+cluster://` with two of the masters as seeds (ioredis's cluster client finds the third).
 */

const WORKERS = 10;
const GATEWAYS = 3;
const SESSIONS = 50;

describe('gateway replicas over a three-master Redis Cluster', () => {
  const fixture = useGatewayReplicas({
    workers: WORKERS,
    gateways: GATEWAYS,
    name: 'cluster-replica',
    startStore: startRedisCluster,
    // Two of the three masters as seeds: the client finds the third itself.
    storeUrl: ({ ports: [p1, p2] }) => `redis+cluster://127.0.0.1:${p1},127.0.0.1:${p2}`,
    env: { ACCESS_LOG: 'true' },
  });
  let race: RaceResult;

  it('the race: 50 new sessions at once over 3 gateways, 10 free workers → 10 served, 40 busy, 0 conflicts', async () => {
    race = await raceNewSessions(
      fixture.gateways.all.map((replica) => replica.client),
      SESSIONS,
      'cluster-race',
    );
    expectRaceResult(race, SESSIONS, WORKERS);
    // The bindings live in the cluster (redis-cli -c follows MOVED to the slot's master).
    const bound = redisCli(fixture.store.ports[0] as number, '-c', 'HKEYS', 'stickygw:{my_service}:bindings');
    expect(bound.split('\n').sort()).toEqual([...race.served.keys()].sort());
  }, 60_000);

  it('each call of each session through a random gateway stays on its instance', async () => {
    const calls = await callEverySession(race.sessions, 5, () => fixture.gateways.any().client);
    expectEveryCallOnItsInstance(calls, race.served);
  }, 60_000);

  it('restart all gateways: every session returns to the instance that holds it', async () => {
    for (const [i, replica] of fixture.gateways.all.entries()) await fixture.gateways.restart(replica, i);
    const calls = await callEverySession(race.sessions, 2, () => fixture.gateways.any().client);
    for (const { session, outcome } of calls) {
      expect(outcome.code).toBe(status.OK);
      expect(outcome.value?.pod_name).toBe(race.served.get(session.sessionId));
    }
  }, 60_000);

  it('a worker SIGKILLed: its session moves once, to the one free worker, and every gateway follows', async () => {
    const spare = await fixture.stack.add();
    // add() waits for the stack's own gateway; these poll the same discoverer every 200 ms.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const session = race.sessions[0] as Session;
    const victim = race.served.get(session.sessionId) as string;
    await fixture.stack.kill(victim);
    const pods: string[] = [];
    // Sequential calls, each through the next gateway: the first finds the victim dead, the others follow.
    for (let i = 0; i < 3 * GATEWAYS; i++) {
      const outcome = await echo((fixture.gateways.all[i % GATEWAYS] as Replica).client, session);
      pods.push(
        outcome.code === status.OK
          ? (outcome.value?.pod_name as string)
          : `${outcome.code} ${outcome.details}`,
      );
    }
    expect(pods).toEqual(Array.from({ length: 3 * GATEWAYS }, () => spare));
    // At most the first call met the dead worker (none when a gateway saw its connection drop first):
    // the other gateways heard of it through the cluster.
    const echoes = await echoAccessLog(fixture.gateways);
    // Since the restart above: its calls and these.
    expect(echoes).toHaveLength(2 * WORKERS + 3 * GATEWAYS);
    expect(echoes.filter((entry) => entry.attempts > 1 || entry.transfers > 0).length).toBeLessThanOrEqual(1);
  }, 60_000);
});
