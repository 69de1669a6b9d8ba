/**
 * A token bucket: `burst` events at once, refilled at `perSecond`. Each abuse bound of a connection
 * (resets, PINGs, SETTINGS, empty frames...) is one of these, so a legitimate peer's bursts pass and
 * only a sustained flood trips it. Time comes from `performance.now()`; the bucket refills lazily.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.tokens = burst;
    this.updatedAt = performance.now();
  }

  /** Takes one token; false when the bucket is empty (the bound is exceeded). */
  take(): boolean {
    if (this.tokens >= 1) {
      this.tokens--;
      return true;
    }
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) * this.perSecond) / 1000);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}
