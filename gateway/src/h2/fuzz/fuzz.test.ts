/**
 * A bounded run of the HTTP/2 fuzzer (both roles) in `make test`: one fixed seed, one random seed
 * (printed in the test name; set H2_FUZZ_SEED to choose it). `make fuzz` runs the same for longer.
 * A failure prints the seed, side and sequence index: replay it with
 * `npx tsx gateway/src/h2/fuzz/fuzz-runner.ts --seed N --side S --index I`.
 */
import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type FuzzFigures, runFuzz, summarize } from './fuzz-runner.js';

const FIXED_SEED = 20_240_601;
const RANDOM_SEED =
  process.env.H2_FUZZ_SEED === undefined ? randomInt(0, 2 ** 32 - 1) : Number(process.env.H2_FUZZ_SEED);
const RUN_MS = 3000;

const runs = new Map<number, FuzzFigures>();

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

for (const [which, seed] of [
  ['fixed', FIXED_SEED],
  ['random', RANDOM_SEED],
] as const) {
  describe(`h2 fuzz, ${which} seed ${seed} (replay: npx tsx gateway/src/h2/fuzz/fuzz-runner.ts --seed ${seed})`, () => {
    it('no exception escapes, no connection hangs, the good clients keep being served', async () => {
      const figures = await runFuzz({
        seed,
        durationMs: RUN_MS,
        connections: 6,
        target: 'both',
        print: (line) => {
          if (line.startsWith('FUZZ FAILURE')) console.log(line);
        },
      });
      runs.set(seed, figures);
      console.log(summarize(figures));
      const context = `seed ${seed}: ${summarize(figures)}`;
      expect(figures.exceptions, context).toBe(0);
      // The fuzzed server kept serving a well-behaved node:http2 client, our client kept working
      // against a good server while other client connections were attacked.
      expect(figures.goodClient.failed, figures.goodClient.errors.join('; ')).toBe(0);
      expect(figures.goodClient.ok).toBeGreaterThan(0);
      expect(figures.goodH2Client.failed, figures.goodH2Client.errors.join('; ')).toBe(0);
      expect(figures.goodH2Client.ok).toBeGreaterThan(0);
      // Enough ground covered, and every hostile connection has an outcome: GOAWAY, close, or alive
      // (answered a PING and was closed by us); none hung.
      for (const side of [figures.server, figures.client]) {
        expect(side.connections).toBeGreaterThan(30);
        expect(total(side.outcomes)).toBe(side.connections);
        expect(side.outcomes.hung ?? 0).toBe(0);
        expect(side.outcomes['goaway-but-open'] ?? 0).toBe(0);
        expect(side.outcomes['runner-deadline'] ?? 0).toBe(0);
        expect(Object.keys(side.goaways).length).toBeGreaterThan(2);
      }
      expect(figures.failures.filter((f) => f.kind !== 'contract')).toEqual([]);
    });

    /** Fails until the client role stops delivering DATA that arrives before the response HEADERS. */
    it('fuzzed client calls get their StreamHandler callbacks in contract order', () => {
      const figures = runs.get(seed);
      expect(figures).toBeDefined();
      expect(figures?.failures.filter((f) => f.kind === 'contract')).toEqual([]);
    });
  });
}
