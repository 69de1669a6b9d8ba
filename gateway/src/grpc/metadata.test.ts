import { describe, expect, it } from 'vitest';
import { firstMetadataValue } from './metadata.js';

describe('firstMetadataValue', () => {
  it('returns a single value as is', () => {
    expect(firstMetadataValue({ 'session-id': 'abc' }, 'session-id')).toBe('abc');
    expect(firstMetadataValue({ 'session-id': ' abc ' }, 'session-id')).toBe(' abc ');
  });

  it('returns the first of repeated values', () => {
    expect(firstMetadataValue({ 'set-cookie': ['a', 'b'] }, 'set-cookie')).toBe('a');
  });

  it('treats missing and empty as missing', () => {
    expect(firstMetadataValue({}, 'session-id')).toBeUndefined();
    expect(firstMetadataValue({ 'session-id': '' }, 'session-id')).toBeUndefined();
    expect(firstMetadataValue({ 'set-cookie': [] }, 'set-cookie')).toBeUndefined();
    expect(firstMetadataValue({ 'set-cookie': ['', 'b'] }, 'set-cookie')).toBeUndefined();
  });
});
