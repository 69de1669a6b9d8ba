/**
 * Detects an instance serving two sessions (exclusive binding broken, REFERENCE.md 6.9) from what the
 * clients see: every answer names the instance (`pod_name` / `pod`) and the session it is bound to.
 * A process keeps its first session for life, so within one incarnation of an instance (one process
 * start) every answer must name the same session. The chaos loop bumps the incarnation when it
 * starts a replacement process, at least a few hundred ms after the old one died, so no answer of the
 * old process can be attributed to the new one.
 *
 * Two more symptoms count: an answer naming a session other than the caller's (cross-talk), and the
 * instance's own refusal `Session conflict: was=…, now=…` (the gateway sent it a second session).
 */
export class BookingTracker {
  readonly #incarnation = new Map<string, number>();
  readonly #sessions = new Map<string, Set<string>>();
  readonly #doubleBooked = new Map<string, Set<string>>();
  #crossTalk = 0;
  #conflicts = 0;
  readonly #examples: string[] = [];

  /** A new process of `pod` is about to start. */
  nextIncarnation(pod: string): void {
    this.#incarnation.set(pod, (this.#incarnation.get(pod) ?? 0) + 1);
  }

  /** An answer from `pod` saying it is bound to `boundSession`, to a call made for `callerSession`. */
  observe(pod: string, boundSession: string, callerSession: string): void {
    if (boundSession !== callerSession) {
      this.#crossTalk++;
      this.#example(`${pod} answered session ${callerSession} as ${boundSession}`);
    }
    const key = `${pod}#${this.#incarnation.get(pod) ?? 0}`;
    const sessions = this.#sessions.get(key) ?? new Set<string>();
    this.#sessions.set(key, sessions);
    sessions.add(boundSession);
    if (sessions.size > 1) {
      if (!this.#doubleBooked.has(key)) this.#example(`${key} served ${[...sessions].join(', ')}`);
      this.#doubleBooked.set(key, sessions);
    }
  }

  /** A status message; counts the instance-side `Session conflict` refusals. */
  observeStatus(details: string): void {
    if (details.startsWith('Session conflict')) {
      this.#conflicts++;
      this.#example(details);
    }
  }

  #example(text: string): void {
    if (this.#examples.length < 20) this.#examples.push(text);
  }

  /** Instance incarnations that served more than one session. */
  get doubleBooked(): number {
    return this.#doubleBooked.size;
  }
  get crossTalk(): number {
    return this.#crossTalk;
  }
  get conflicts(): number {
    return this.#conflicts;
  }
  /** Instance incarnations that answered at least once. */
  get incarnationsSeen(): number {
    return this.#sessions.size;
  }
  get examples(): readonly string[] {
    return this.#examples;
  }
}
