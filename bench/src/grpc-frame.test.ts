import { describe, expect, it } from 'vitest';
import { benchPayload, grpcFrame } from './grpc-frame.js';

describe('grpcFrame', () => {
  it('prefixes the payload with a zero flag and its big-endian length', () => {
    const frame = grpcFrame(Buffer.from('hello'));
    expect([...frame.subarray(0, 5)]).toEqual([0, 0, 0, 0, 5]);
    expect(frame.subarray(5).toString()).toBe('hello');
  });

  it('encodes lengths above 64 KiB', () => {
    expect(grpcFrame(benchPayload(65_536)).readUInt32BE(1)).toBe(65_536);
  });
});

describe('benchPayload', () => {
  it('has the requested size and is reproducible', () => {
    expect(benchPayload(20).toString()).toBe('abcdefghijklmnopqrst');
    expect(benchPayload(1024).equals(benchPayload(1024))).toBe(true);
  });
});
