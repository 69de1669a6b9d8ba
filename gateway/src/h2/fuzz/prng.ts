/**
 * A small seeded PRNG for the HTTP/2 fuzzer: xoshiro128** seeded through splitmix32. The same seed
 * gives the same numbers on every platform and Node version (32-bit integer arithmetic only), so a
 * failing sequence can be replayed from its seed and index alone.
 */

/** splitmix32 step: a well-mixed 32-bit value from a 32-bit state (also used to hash seeds). */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Mixes any number of 32-bit keys (a seed, a sequence index, a label hash) into one 32-bit seed. */
function mixSeed(...keys: readonly number[]): number {
  let h = 0x1234_5678;
  for (const key of keys) h = splitmix32((h ^ (key >>> 0)) >>> 0);
  return h;
}

/** FNV-1a hash of a label, to derive independent streams for named purposes. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    let s = seed >>> 0;
    s = splitmix32(s);
    this.a = s;
    s = splitmix32(s);
    this.b = s;
    s = splitmix32(s);
    this.c = s;
    s = splitmix32(s);
    this.d = s;
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** A PRNG for one purpose of one seed (e.g. `derive(seed, index)`), independent of the others. */
  static derive(seed: number, ...keys: readonly (number | string)[]): Prng {
    return new Prng(mixSeed(seed, ...keys.map((k) => (typeof k === 'string' ? hashLabel(k) : k))));
  }

  /** A child generator: its numbers do not shift this one's after the call. */
  fork(label: string): Prng {
    return new Prng(mixSeed(this.next(), hashLabel(label)));
  }

  /** The next 32-bit unsigned integer (xoshiro128**). */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next() / 4_294_967_296;
  }

  /** An integer in [0, n) (n ≤ 2^32). */
  int(n: number): number {
    if (n <= 1) return 0;
    return Math.floor(this.float() * n);
  }

  /** An integer in [min, max], both included. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** true with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  /** One of the keys, with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    let total = 0;
    for (const [, w] of entries) total += w;
    let x = this.float() * total;
    for (const [key, w] of entries) {
      x -= w;
      if (x < 0) return key;
    }
    return (entries[entries.length - 1] as [K, number])[0];
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) out.writeUInt32LE(this.next(), i);
    if (i < n) {
      const last = this.next();
      for (let k = 0; i < n; i++, k++) out[i] = (last >>> (8 * k)) & 0xff;
    }
    return out;
  }

  /** Mostly small, sometimes large: sizes that hit both the common path and the limits. */
  size(max: number): number {
    const r = this.float();
    if (r < 0.6) return this.int(Math.min(max, 64) + 1);
    if (r < 0.9) return this.int(Math.min(max, 2048) + 1);
    return this.int(max + 1);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
