import { MAX_TIMER_MS } from '@stickygw/servicekit';
import { formatGrpcTimeout, parseGrpcTimeout } from '../grpc/headers.js';

/** The longest grpc-timeout forwarded upstream: whole seconds (`2147483S`) within MAX_TIMER_MS. */
const MAX_FORWARDED_TIMEOUT_MS = 2_147_483_000;

/** Who is told when a deadline passes. */
export interface DeadlineOwner {
  deadlineExpired(): void;
}

function fire(deadline: Deadline): void {
  deadline.fire();
}

/**
 * A call's `grpc-timeout` (PROTOCOL-HTTP2.md): when it passes, the owner is told once. It also gives
 * what is left of the budget for the upstream attempts (retries and transfers forward the remainder).
 * Deadlines past node's timer range are reached in steps. Calls without a valid `grpc-timeout` have
 * no Deadline object at all (`Deadline.of` returns undefined).
 */
export class Deadline {
  /** `performance.now()` at which the call expires. */
  readonly at: number;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly startedAt: number,
    timeoutMs: number,
    private readonly owner: DeadlineOwner,
  ) {
    this.at = startedAt + timeoutMs;
  }

  /** The deadline of a call that started at `startedAt`, or undefined without a (valid) grpc-timeout. */
  static of(startedAt: number, grpcTimeout: string | undefined, owner: DeadlineOwner): Deadline | undefined {
    const timeoutMs = parseGrpcTimeout(grpcTimeout);
    return timeoutMs === undefined ? undefined : new Deadline(startedAt, timeoutMs, owner);
  }

  /** A zero grpc-timeout has expired on arrival: a timer would race a fast upstream's answer. */
  get expiredOnArrival(): boolean {
    return this.at <= this.startedAt;
  }

  /** Starts the timer (once, at the start of the call). */
  arm(): void {
    if (this.at <= this.startedAt) return;
    this.schedule(this.at - this.startedAt);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(fire, Math.min(ms, MAX_TIMER_MS), this);
  }

  /** @internal The timer fired. */
  fire(): void {
    this.timer = undefined;
    const left = this.at - performance.now();
    if (left > 1_000) {
      this.schedule(left);
      return;
    }
    this.owner.deadlineExpired();
  }

  clear(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * The `grpc-timeout` to forward: undefined when there is none or nothing has been spent yet (the
   * client's own value goes as it is), else the remainder. Capped: grpc-js servers arm one timer per
   * call and fire at once past 2^31 - 1 ms, so a 30-day deadline would fail there immediately.
   */
  forwardedTimeout(): string | undefined {
    const now = performance.now();
    const left = this.at - now;
    if (left > MAX_FORWARDED_TIMEOUT_MS) return formatGrpcTimeout(MAX_FORWARDED_TIMEOUT_MS);
    if (now - this.startedAt < 1) return undefined;
    return formatGrpcTimeout(left);
  }
}
