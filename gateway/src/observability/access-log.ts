import { type Logger, pino } from 'pino';

/** What one finished call reports (Envoy-style access log). */
export interface AccessLogEntry {
  /** The full method name (`:path`). */
  readonly method: string;
  /** The gRPC status the client got; `-1` when the call ended with a bare HTTP error or an RST. */
  readonly grpcStatus: number;
  readonly durationMs: number;
  readonly cluster: string | undefined;
  /** Id of the last endpoint that served the call. */
  readonly endpoint: string | undefined;
  /** Upstream streams opened for the call. */
  readonly attempts: number;
  readonly transfers: number;
  /** Stable tag of the failure, when the gateway ended the call itself. */
  readonly reason: string | undefined;
}

/** Receives one entry per finished call; the pipeline never waits for it. */
export interface AccessLog {
  record(entry: AccessLogEntry): void;
  /** Writes out anything buffered and stops timers (on shutdown). */
  close(): void;
}

const FLUSH_INTERVAL_MS = 1000;

/**
 * One JSON line per call at `info`, through its own pino instance on a buffered stdout writer, so
 * that a busy gateway does one `write(2)` per few KiB of log instead of one per call. The buffer is
 * flushed every second and on shutdown.
 */
export class PinoAccessLog implements AccessLog {
  private readonly destination = pino.destination({ dest: 1, sync: false, minLength: 8 * 1024 });
  private readonly logger: Logger;
  private readonly timer: NodeJS.Timeout;

  constructor(level = 'info') {
    this.logger = pino(
      { level, base: { service: 'gateway', log: 'access' }, timestamp: pino.stdTimeFunctions.isoTime },
      this.destination,
    );
    this.timer = setInterval(() => this.destination.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  record(entry: AccessLogEntry): void {
    this.logger.info(entry, 'call finished');
  }

  close(): void {
    clearInterval(this.timer);
    try {
      this.destination.flushSync();
    } catch {
      // sonic-boom throws when nothing was written yet or the fd is gone; nothing to flush then.
    }
  }
}
