import { describe, expect, it } from 'vitest';
import { ClosedBy, ClosedStreams } from './closed-streams.js';

describe('ClosedStreams', () => {
  it('remembers how each stream closed, the newest record winning', () => {
    const closed = new ClosedStreams(4);
    closed.record(1, ClosedBy.ENDED);
    closed.record(3, ClosedBy.PEER_RESET);
    closed.record(1, ClosedBy.US);
    expect(closed.kindOf(1)).toBe(ClosedBy.US);
    expect(closed.kindOf(3)).toBe(ClosedBy.PEER_RESET);
    expect(closed.kindOf(5)).toBe(0);
  });

  it('forgets the oldest past its capacity, never a newer record of the same id', () => {
    const closed = new ClosedStreams(3);
    closed.record(1, ClosedBy.ENDED); // slot 0
    closed.record(1, ClosedBy.US); // slot 1, newer
    closed.record(3, ClosedBy.ENDED); // slot 2
    closed.record(5, ClosedBy.ENDED); // overwrites slot 0 (the old record of 1)
    expect(closed.kindOf(1)).toBe(ClosedBy.US);
    closed.record(7, ClosedBy.ENDED); // overwrites slot 1: now 1 is forgotten
    expect(closed.kindOf(1)).toBe(0);
    expect([3, 5, 7].map((id) => closed.kindOf(id))).toEqual([
      ClosedBy.ENDED,
      ClosedBy.ENDED,
      ClosedBy.ENDED,
    ]);
  });
});
