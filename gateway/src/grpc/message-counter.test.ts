import { describe, expect, it } from 'vitest';
import { MessageCounter } from './message-counter.js';

function frame(payload: number): Buffer {
  const buffer = Buffer.alloc(5 + payload, 7);
  buffer[0] = 0;
  buffer.writeUInt32BE(payload, 1);
  return buffer;
}

describe('MessageCounter', () => {
  it('counts messages however the bytes are split', () => {
    const bytes = Buffer.concat([frame(0), frame(3), frame(300), frame(1)]);
    for (const step of [1, 2, 5, 7, 64, bytes.length]) {
      const counter = new MessageCounter();
      for (let offset = 0; offset < bytes.length; offset += step)
        counter.push(bytes.subarray(offset, offset + step));
      expect(counter.count, `chunks of ${step}`).toBe(4);
    }
  });

  it('counts a message once its prefix starts', () => {
    const counter = new MessageCounter();
    counter.push(frame(10).subarray(0, 2));
    expect(counter.count).toBe(1);
  });
});
