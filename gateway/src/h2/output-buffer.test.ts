import { describe, expect, it } from 'vitest';
import { COPY_LIMIT, OutputBuffer } from './output-buffer.js';

function concat(parts: Buffer[]): Buffer {
  return Buffer.concat(parts);
}

describe('OutputBuffer', () => {
  it('hands frame headers and small payloads over as one piece, in order', () => {
    const out = new OutputBuffer();
    const payload = Buffer.from('hello');
    out.header(payload.length, 0x0, 0x1, 3);
    out.payload(payload, 0, payload.length);
    out.u32(0xdeadbeef);
    const parts = out.take();
    expect(parts).toHaveLength(1);
    expect(concat(parts).toString('hex')).toBe(`000005000100000003${payload.toString('hex')}deadbeef`);
    expect(out.length).toBe(0);
  });

  it('attaches payloads above the copy limit without copying them', () => {
    const out = new OutputBuffer();
    const big = Buffer.alloc(COPY_LIMIT + 1, 7);
    out.header(big.length, 0x0, 0, 1);
    out.payload(big, 0, big.length);
    out.header(0, 0x0, 0x1, 1);
    const parts = out.take();
    expect(parts).toHaveLength(3);
    expect(parts[1]).toBe(big);
    expect(concat(parts).length).toBe(9 + big.length + 9);
  });

  it('starts a turn on a fresh slab when the old one is nearly used, so the turn stays one write', () => {
    const out = new OutputBuffer();
    const chunk = Buffer.alloc(COPY_LIMIT, 1);
    // Fill most of the 64 KiB slab in one turn.
    for (let i = 0; i < 25; i++) out.payload(chunk, 0, chunk.length);
    expect(out.take()).toHaveLength(1);
    // The next turn's 16 KiB would not fit behind it: it must still come out in one piece.
    for (let i = 0; i < 8; i++) out.payload(chunk, 0, chunk.length);
    const parts = out.take();
    expect(parts).toHaveLength(1);
    expect(parts[0]?.length).toBe(8 * COPY_LIMIT);
  });

  it('keeps handed-out parts intact while the slab is reused', () => {
    const out = new OutputBuffer();
    out.payload(Buffer.from('first'), 0, 5);
    const first = out.take();
    out.payload(Buffer.from('second'), 0, 6);
    const second = out.take();
    expect(concat(first).toString()).toBe('first');
    expect(concat(second).toString()).toBe('second');
  });
});
