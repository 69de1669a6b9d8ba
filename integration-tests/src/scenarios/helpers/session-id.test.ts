import { describe, expect, it } from 'vitest';
import { sessionId, timestamp } from './session-id.js';

describe('session ids (REFERENCE.md 7.2)', () => {
  it('formats local time as yyyyMMddHHmmss', () => {
    expect(timestamp(new Date(2026, 1, 9, 7, 5, 3))).toBe('20260209070503');
  });

  it('builds integration-test-session-[<part>-]<timestamp>', () => {
    expect(sessionId()).toMatch(/^integration-test-session-\d{14}$/);
    expect(sessionId('client1')).toMatch(/^integration-test-session-client1-\d{14}$/);
  });
});
