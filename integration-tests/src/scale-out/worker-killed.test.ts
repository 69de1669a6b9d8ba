import { status } from '@grpc/grpc-js';
import { startRedis } from '@stickygw/testkit';
import { describe, expect, it } from 'vitest';
import { echo, type Session } from '../reliability/gateway-clients.js';
import {
  conflicts,
  type EchoOutcome,
  echoAccessLog,
  raceNewSessions,
  useGatewayReplicas,
} from './test-support/gateway-replicas.js';

/**
 * Issue 11, a worker SIGKILLed under traffic through three gateways over one Redis: the replica
 * that finds it dead transfers its session (REFERENCE.md 6.12) and every other replica follows
 * the new binding at once. Two workers stay free, so a replica still routing to the dead worker
 * would show: it would move the session a second time, to the other free worker.
 */

const SESSIONS = 5;
const WORKERS = SESSIONS + 2;
const GATEWAYS = 3;
const ROUNDS = 10;

describe('a worker SIGKILLed under traffic through 3 gateways', () => {
  const fixture = useGatewayReplicas({
    workers: WORKERS,
    gateways: GATEWAYS,
    name: 'worker-killed',
    startStore: startRedis,
    // Each call's attempts and transfers: which calls met the dead worker.
    env: { ACCESS_LOG: 'true' },
  });

  it('every replica stops using it: its session moves once, to one worker, the others stay; 0 conflicts', async () => {
    const clients = fixture.gateways.all.map((replica) => replica.client);
    const race = await raceNewSessions(clients, SESSIONS, 'worker-killed');
    expect({ ok: race.ok, other: race.other }).toEqual({ ok: SESSIONS, other: [] });
    const sessions = race.sessions;
    const victimSession = sessions[0] as Session;
    const victim = race.served.get(victimSession.sessionId) as string;

    // Round r sends session i through gateway (r + i) mod 3: each session visits every gateway.
    const pods = new Map<string, string[]>(sessions.map((session) => [session.sessionId, []]));
    const outcomes: EchoOutcome[] = [];
    let round = 0;
    const rounds = async (count: number): Promise<void> => {
      for (const end = round + count; round < end; round++) {
        const results = await Promise.all(
          sessions.map((session, i) =>
            echo(clients[(round + i) % GATEWAYS] as (typeof clients)[number], session),
          ),
        );
        results.forEach((outcome, i) => {
          outcomes.push(outcome);
          pods
            .get((sessions[i] as Session).sessionId)
            ?.push(outcome.value?.pod_name ?? `failed ${outcome.code}`);
        });
      }
    };
    await rounds(ROUNDS);
    const killed = fixture.stack.kill(victim);
    await rounds(ROUNDS);
    await killed;
    await rounds(ROUNDS);

    expect(conflicts(outcomes)).toBe(0);
    expect(outcomes.filter((outcome) => outcome.code !== status.OK).map((o) => [o.code, o.details])).toEqual(
      [],
    );
    // The victim's session: the victim, then one other worker for good (a free one, no other session's).
    const moved = pods.get(victimSession.sessionId) as string[];
    const successor = moved[moved.length - 1] as string;
    expect(successor).not.toBe(victim);
    expect([...race.served.values()]).not.toContain(successor);
    const switchAt = moved.indexOf(successor);
    expect(moved.slice(0, switchAt).every((pod) => pod === victim)).toBe(true);
    expect(moved.slice(switchAt).every((pod) => pod === successor)).toBe(true);
    // At least the last ROUNDS rounds (3 visits of each gateway) ran after the kill.
    expect(moved.length - switchAt).toBeGreaterThanOrEqual(ROUNDS);
    // At most one call met the dead worker (none when a gateway saw its connection drop first) and
    // needed another attempt: every other gateway knew.
    const echoes = await echoAccessLog(fixture.gateways);
    expect(echoes).toHaveLength(SESSIONS + 3 * ROUNDS * SESSIONS);
    expect(echoes.filter((entry) => entry.attempts > 1 || entry.transfers > 0).length).toBeLessThanOrEqual(1);
    for (const session of sessions.slice(1)) {
      const served = race.served.get(session.sessionId);
      expect(pods.get(session.sessionId)).toEqual(Array.from({ length: 3 * ROUNDS }, () => served));
    }
  }, 60_000);
});
