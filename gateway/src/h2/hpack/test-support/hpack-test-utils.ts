/** Helpers shared by the HPACK tests. */

/** A buffer from hex digits; whitespace is ignored so RFC 7541 dumps can be pasted as they are. */
export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** Small seeded PRNG (mulberry32): every failure can be replayed from its seed. */
export function prng(seed: number): (bound: number) => number {
  let state = seed >>> 0;
  return (bound: number) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * bound);
  };
}

/** A latin1 string of `length` chars drawn from `alphabet` (or any octet). */
export function randomString(random: (bound: number) => number, length: number, alphabet?: string): string {
  let text = '';
  for (let i = 0; i < length; i++) {
    text += alphabet === undefined ? String.fromCharCode(random(256)) : alphabet[random(alphabet.length)];
  }
  return text;
}
