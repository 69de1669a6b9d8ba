import { describe, expect, it } from 'vitest';
import { firstMetadataValue } from './metadata.js';
import { RequestHeaders } from './request-headers.js';

describe('firstMetadataValue', () => {
  it('returns a single value as is', () => {
    expect(firstMetadataValue(RequestHeaders.fromObject({ 'session-id': 'abc' }), 'session-id')).toBe('abc');
    expect(firstMetadataValue(RequestHeaders.fromObject({ 'session-id': ' abc ' }), 'session-id')).toBe(
      ' abc ',
    );
  });

  it('returns the first of repeated set-cookie values, other repeated names joined as node does', () => {
    expect(firstMetadataValue(new RequestHeaders(['session-id', 'a', 'session-id', 'b']), 'session-id')).toBe(
      'a, b',
    );
    expect(firstMetadataValue(RequestHeaders.fromObject({ 'set-cookie': ['a', 'b'] }), 'set-cookie')).toBe(
      'a',
    );
  });

  it('treats missing and empty as missing', () => {
    expect(firstMetadataValue(RequestHeaders.fromObject({}), 'session-id')).toBeUndefined();
    expect(firstMetadataValue(RequestHeaders.fromObject({ 'session-id': '' }), 'session-id')).toBeUndefined();
    expect(firstMetadataValue(RequestHeaders.fromObject({ 'set-cookie': [] }), 'set-cookie')).toBeUndefined();
    expect(
      firstMetadataValue(RequestHeaders.fromObject({ 'set-cookie': ['', 'b'] }), 'set-cookie'),
    ).toBeUndefined();
  });
});
