import type { Logger } from 'pino';

/** The body of `POST /v1/register` (REFERENCE.md 5.6); `timestamp` is filled in per request. */
interface RegistrationTarget {
  instanceId: string;
  ipv4: string;
  port: number;
  ttlMs: number;
}

export interface RegistrationOptions {
  /** Discoverer base URL without trailing `/`. */
  discovererUrl: string;
  /** Sent as `Authorization: Bearer <token>` when the discoverer requires one (`DISCOVERER_TOKEN`). */
  discovererToken?: string | undefined;
  target: RegistrationTarget;
  heartbeatIntervalMs: number;
  logger: Logger;
  /** Initial attempts before giving up (reference: 100). */
  maxAttempts?: number;
  /** Pause between two initial attempts (reference: 2 s). */
  retryDelayMs?: number;
  /** Per-request timeout (reference: 10 s). */
  requestTimeoutMs?: number;
}

/**
 * - `registering`: initial attempts in progress;
 * - `heartbeating`: registered once, re-registering every heartbeat interval;
 * - `gave_up`: every initial attempt failed, the worker serves but stays undiscoverable;
 * - `stopped`: {@link Registration.stop} was called.
 */
export type RegistrationState = 'registering' | 'heartbeating' | 'gave_up' | 'stopped';

/**
 * Keeps this worker in the discoverer's registry (REFERENCE.md 5.6): up to `maxAttempts` initial
 * registrations `retryDelayMs` apart, then the same registration with a fresh timestamp every
 * `heartbeatIntervalMs`. Failures are logged and never end the loop early. It never unregisters:
 * a stopped worker's entry lives until its TTL so the gateway finds dead instances itself (7.3.12).
 * Timers are unref'd, so the loop alone never keeps the process alive.
 */
export class Registration {
  readonly #options: Required<Omit<RegistrationOptions, 'discovererToken'>> &
    Pick<RegistrationOptions, 'discovererToken'>;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #state: RegistrationState = 'registering';
  #started = false;
  readonly #initialPhase: Promise<boolean>;
  #resolveInitialPhase: (registered: boolean) => void = () => {};

  constructor(options: RegistrationOptions) {
    this.#options = {
      maxAttempts: 100,
      retryDelayMs: 2000,
      requestTimeoutMs: 10_000,
      ...options,
    };
    this.#initialPhase = new Promise((resolve) => {
      this.#resolveInitialPhase = resolve;
    });
  }

  get state(): RegistrationState {
    return this.#state;
  }

  /** Resolves `true` after the first successful registration, `false` when it gave up or was stopped first. */
  get initialPhase(): Promise<boolean> {
    return this.#initialPhase;
  }

  /** Starts the loop in the background; calling it again does nothing. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    void this.#attempt(1);
  }

  /** Cancels the pending timer and any request in flight. Does not unregister. */
  stop(): void {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    clearTimeout(this.#timer);
    this.#abort.abort();
    this.#resolveInitialPhase(false);
  }

  async #attempt(attempt: number): Promise<void> {
    const ok = await this.#register();
    if (this.#state === 'stopped') return;
    const { maxAttempts, retryDelayMs, logger } = this.#options;
    if (ok) {
      logger.info({ attempt }, 'registered at the discoverer');
      this.#state = 'heartbeating';
      this.#resolveInitialPhase(true);
      this.#schedule(() => this.#heartbeat(), this.#options.heartbeatIntervalMs);
      return;
    }
    if (attempt >= maxAttempts) {
      logger.error({ attempts: attempt }, 'giving up registering at the discoverer');
      this.#state = 'gave_up';
      this.#resolveInitialPhase(false);
      return;
    }
    this.#schedule(() => this.#attempt(attempt + 1), retryDelayMs);
  }

  async #heartbeat(): Promise<void> {
    await this.#register();
    if (this.#state === 'stopped') return;
    this.#schedule(() => this.#heartbeat(), this.#options.heartbeatIntervalMs);
  }

  #schedule(next: () => Promise<void>, delayMs: number): void {
    this.#timer = setTimeout(() => void next(), delayMs);
    this.#timer.unref();
  }

  /** One `POST /v1/register`; any 2xx is a success. Never throws. */
  async #register(): Promise<boolean> {
    const { discovererUrl, discovererToken, target, requestTimeoutMs, logger } = this.#options;
    const body = {
      instance_id: target.instanceId,
      service_type: 'grpcserver',
      ipv4: target.ipv4,
      port: target.port,
      timestamp: new Date().toISOString(),
      ttl_ms: target.ttlMs,
    };
    try {
      const response = await fetch(`${discovererUrl}/v1/register`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          ...(discovererToken === undefined ? {} : { authorization: `Bearer ${discovererToken}` }),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(requestTimeoutMs)]),
      });
      // Drain the body so the keep-alive socket is released.
      const text = await response.text();
      if (response.ok) return true;
      if (this.#state !== 'stopped' && (response.status === 401 || response.status === 409)) {
        logger.error(
          { status: response.status, body: text.slice(0, 200) },
          response.status === 401
            ? `the discoverer refused this worker's token: ${discovererToken === undefined ? "set DISCOVERER_TOKEN (or DISCOVERER_TOKEN_FILE) to the discoverer's token" : "DISCOVERER_TOKEN does not match the discoverer's"}`
            : 'the discoverer refused this instance_id: it is registered at another address with another token',
        );
      } else if (this.#state !== 'stopped') {
        logger.warn(
          { status: response.status, body: text.slice(0, 200) },
          'registration refused by the discoverer',
        );
      }
      return false;
    } catch (error) {
      if (this.#state !== 'stopped') logger.warn({ error: describe(error) }, 'registration request failed');
      return false;
    }
  }
}

/** `fetch failed: connect ECONNREFUSED 127.0.0.1:1` rather than a stack per retry. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
