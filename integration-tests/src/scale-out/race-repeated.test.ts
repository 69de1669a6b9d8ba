import { type StartedRedis, startRedis } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useFaultStack } from '../reliability/test-support/use-fault-stack.js';
import { GatewayReplicas, raceNewSessions, redisCli } from './test-support/gateway-replicas.js';

/**
 * Issue 11, the race on fresh state, repeated: 50 new sessions at once over 3 gateways sharing one
 * Redis, 10 free workers. Workers serve one session for life and gateways cache bindings, so each
 * repetition starts from nothing: gateways stopped, workers restarted (fresh processes), the store
 * flushed, gateways started again.
 */

const WORKERS = 10;
const GATEWAYS = 3;
const SESSIONS = 50;
/** RACE_REPETITIONS overrides it: each repetition restarts 10 workers and 3 gateways, about 4 s here. */
const REPETITIONS = Number(process.env.RACE_REPETITIONS ?? 20);

describe('the race repeated on fresh state', () => {
  const fixture = useFaultStack({ workers: WORKERS });
  let store: StartedRedis;
  let gateways: GatewayReplicas;

  beforeAll(async () => {
    store = await startRedis();
    gateways = new GatewayReplicas({ stack: fixture.stack, storeUrl: store.url, name: 'race' });
    await gateways.add(GATEWAYS);
  }, 60_000);

  afterAll(async () => {
    await gateways?.close();
    await store?.stop();
  });

  it(`${SESSIONS} new sessions at once over ${GATEWAYS} gateways, ${WORKERS} free workers, ${REPETITIONS} times: 10 served, 40 busy, 0 conflicts each`, async () => {
    const figures: string[] = [];
    for (let repetition = 0; repetition < REPETITIONS; repetition++) {
      if (repetition > 0) {
        await gateways.stopAll();
        await fixture.stack.stopAllWorkers();
        redisCli(store.port, 'FLUSHALL');
        // Same ports and ids: their registrations stand, and the gateways are started after them.
        await Promise.all(fixture.stack.pods().map((pod) => fixture.stack.instance(pod).start()));
        await gateways.startAll();
      }
      const race = await raceNewSessions(
        gateways.all.map((replica) => replica.client),
        SESSIONS,
        `race-${repetition}`,
      );
      figures.push(`${race.ok}/${race.busy}/${race.conflicts}`);
      expect({ repetition, ...race, served: undefined, sessions: undefined }).toEqual({
        repetition,
        ok: WORKERS,
        busy: SESSIONS - WORKERS,
        conflicts: 0,
        other: [],
        served: undefined,
        sessions: undefined,
      });
      expect(new Set(race.served.values()).size).toBe(WORKERS);
    }
    process.stdout.write(`race served/busy/conflicts per repetition: ${figures.join(' ')}\n`);
  }, 170_000);
});
