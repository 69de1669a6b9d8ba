import { buildWorkspace } from '@stickygw/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { runLeastRequestsDemo } from './demo.js';

beforeAll(() => buildWorkspace('examples'));

describe('least-requests-balancer (a Balancer, through a real gateway process)', () => {
  it('spreads long calls over both backends where round robin piles them on one', async () => {
    const { roundRobin, leastRequests } = await runLeastRequestsDemo();
    expect(roundRobin.failures).toBe(0);
    expect(leastRequests.failures).toBe(0);
    // Round robin: every long call (the even ones) on one backend.
    expect(Object.values(roundRobin.longCalls)).toEqual([20]);
    // Least requests: each backend takes a fair share of the long calls (bounds generous for a loaded machine).
    const longShares = Object.values(leastRequests.longCalls);
    expect(longShares).toHaveLength(2);
    for (const share of longShares) expect(share).toBeGreaterThanOrEqual(6);
    const peaks = (spread: typeof roundRobin) => Math.max(...Object.values(spread.peakInFlight));
    expect(peaks(leastRequests)).toBeLessThan(peaks(roundRobin));
  });
});
