import { describe, expect, it } from 'vitest';
import { RequestFraming } from './request-framing.js';

function frame(payload: Buffer, compressed = 0): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed;
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

describe('RequestFraming', () => {
  it('counts one complete message as the unary shape', () => {
    const framing = new RequestFraming(1024);
    expect(framing.push(frame(Buffer.from('hello')))).toBe(-1);
    expect(framing.messagesStarted).toBe(1);
    expect(framing.isSingleCompleteMessage).toBe(true);
  });

  it('follows prefixes and payloads split at every byte boundary', () => {
    const bytes = Buffer.concat([
      frame(Buffer.alloc(300, 1)),
      frame(Buffer.alloc(0)),
      frame(Buffer.alloc(7, 2)),
    ]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const framing = new RequestFraming(1024);
      expect(framing.push(bytes.subarray(0, cut))).toBe(-1);
      expect(framing.push(bytes.subarray(cut))).toBe(-1);
      expect(framing.messagesStarted).toBe(3);
      expect(framing.isSingleCompleteMessage).toBe(false);
    }
  });

  it('walks one byte at a time', () => {
    const framing = new RequestFraming(1024);
    const bytes = Buffer.concat([frame(Buffer.alloc(20)), frame(Buffer.alloc(3))]);
    for (const byte of bytes) expect(framing.push(Buffer.of(byte))).toBe(-1);
    expect(framing.messagesStarted).toBe(2);
  });

  it('is not the unary shape while the first message is incomplete', () => {
    const framing = new RequestFraming(1024);
    framing.push(frame(Buffer.alloc(10)).subarray(0, 8));
    expect(framing.messagesStarted).toBe(1);
    expect(framing.isSingleCompleteMessage).toBe(false);
    const partialPrefix = new RequestFraming(1024);
    partialPrefix.push(Buffer.concat([frame(Buffer.alloc(1)), Buffer.of(0, 0)]));
    expect(partialPrefix.isSingleCompleteMessage).toBe(false);
  });

  it('reports the announced length of a message over the limit, from its prefix alone', () => {
    const framing = new RequestFraming(100);
    expect(framing.push(frame(Buffer.alloc(100)))).toBe(-1);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(101, 1);
    expect(framing.push(prefix)).toBe(101);
  });

  it('reads lengths up to 4 GiB - 1 without sign errors', () => {
    const framing = new RequestFraming(2 ** 32);
    expect(framing.push(Buffer.of(0, 0xff, 0xff, 0xff, 0xff))).toBe(-1);
    const strict = new RequestFraming(2 ** 31);
    expect(strict.push(Buffer.of(1, 0xff, 0xff, 0xff, 0xff))).toBe(2 ** 32 - 1);
  });

  it('tells whether the bytes end at a message boundary', () => {
    const framing = new RequestFraming(1024);
    expect(framing.atMessageBoundary).toBe(true);
    const bytes = Buffer.concat([frame(Buffer.alloc(3)), frame(Buffer.alloc(2))]);
    for (let i = 0; i < bytes.length; i++) {
      framing.push(bytes.subarray(i, i + 1));
      expect(framing.atMessageBoundary, `after byte ${i}`).toBe(i === 7 || i === bytes.length - 1);
    }
  });

  it('flags a compressed message without an encoding, and a flag other than 0 or 1', () => {
    const plain = new RequestFraming(1024);
    plain.push(frame(Buffer.from('a')));
    expect(plain.violation).toBeUndefined();
    const compressed = new RequestFraming(1024);
    compressed.push(Buffer.concat([frame(Buffer.from('a')), frame(Buffer.from('b'), 1)]));
    expect(compressed.violation).toBe('request message is compressed but no grpc-encoding was sent');
    const encoded = new RequestFraming(1024, true);
    encoded.push(frame(Buffer.from('a'), 1));
    expect(encoded.violation).toBeUndefined();
    const reserved = new RequestFraming(1024, true);
    reserved.push(frame(Buffer.from('a'), 0x80));
    expect(reserved.violation).toBe('request message has an invalid compressed flag 128');
  });
});
