import { startRedis } from '@stickygw/testkit';
import { describe, it } from 'vitest';
import {
  expectRaceResult,
  raceNewSessions,
  redisCli,
  useGatewayReplicas,
} from './test-support/gateway-replicas.js';

/**
 * Issue 11, the race on fresh state, repeated: 50 new sessions at once over 3 gateways sharing one
 * Redis, 10 free workers. Workers serve one session for life and gateways cache bindings, so each
 * repetition starts from nothing: gateways stopped, workers restarted (fresh processes), the store
 * flushed, gateways started again.
 */

const WORKERS = 10;
const GATEWAYS = 3;
const SESSIONS = 50;
/**
 * RACE_REPETITIONS overrides it: each repetition restarts 10 workers and 3 gateways, 4 to 7 s on
 * 2 busy cores (13 Node processes started), so 20 take 80 to 135 s.
 */
const REPETITIONS = Number(process.env.RACE_REPETITIONS ?? 20);

describe('the race repeated on fresh state', () => {
  const fixture = useGatewayReplicas({
    workers: WORKERS,
    gateways: GATEWAYS,
    name: 'race',
    startStore: startRedis,
  });

  it(
    `${SESSIONS} new sessions at once over ${GATEWAYS} gateways, ${WORKERS} free workers, ${REPETITIONS} times: 10 served, 40 busy, 0 conflicts each`,
    async () => {
      const figures: string[] = [];
      for (let repetition = 0; repetition < REPETITIONS; repetition++) {
        if (repetition > 0) {
          await fixture.gateways.stopAll();
          await fixture.stack.stopAllWorkers();
          redisCli(fixture.store.port, 'FLUSHALL');
          // Same ports and ids: their registrations stand, and the gateways are started after them.
          await Promise.all(fixture.stack.pods().map((pod) => fixture.stack.instance(pod).start()));
          await fixture.gateways.startAll();
        }
        const race = await raceNewSessions(
          fixture.gateways.all.map((replica) => replica.client),
          SESSIONS,
          `race-${repetition}`,
        );
        figures.push(`${race.ok}/${race.busy}/${race.conflicts}`);
        expectRaceResult(race, SESSIONS, WORKERS, `repetition ${repetition}`);
      }
      process.stdout.write(`race served/busy/conflicts per repetition: ${figures.join(' ')}\n`);
    },
    // Generous: a loaded CI machine has taken twice the quiet 7 s per repetition.
    30_000 + REPETITIONS * 20_000,
  );
});
