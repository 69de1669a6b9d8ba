import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { firstMetadataValue } from './first-metadata-value.js';

describe('firstMetadataValue', () => {
  it('reads a single value', () => {
    const metadata = new Metadata();
    metadata.set('session-id', 's1');
    expect(firstMetadataValue(metadata, 'session-id')).toBe('s1');
  });

  it('matches keys case-insensitively', () => {
    const metadata = new Metadata();
    metadata.set('Session-ID', 's1');
    expect(firstMetadataValue(metadata, 'SESSION-id')).toBe('s1');
  });

  it('uses the first of several values, also when they arrive joined by commas', () => {
    const separate = new Metadata();
    separate.add('session-id', 's1');
    separate.add('session-id', 's2');
    expect(firstMetadataValue(separate, 'session-id')).toBe('s1');
    const joined = new Metadata();
    joined.set('session-id', 's1, s2');
    expect(firstMetadataValue(joined, 'session-id')).toBe('s1');
  });

  it.each(['', ' ', ', s2'])('treats an empty first value (%j) as missing', (value) => {
    const metadata = new Metadata();
    metadata.set('session-id', value);
    expect(firstMetadataValue(metadata, 'session-id')).toBeUndefined();
  });

  it('returns undefined for an absent key', () => {
    expect(firstMetadataValue(new Metadata(), 'authorization')).toBeUndefined();
  });
});
