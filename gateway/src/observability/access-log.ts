import { pino } from 'pino';

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
/** pino's numeric level of `info`, the level of every access-log line. */
const INFO_LEVEL = 30;

/** True when JSON must escape a character of `value`: `"`, `\\`, control characters, surrogates. */
function needsEscape(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}

function jsonString(value: string): string {
  return needsEscape(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * One JSON line per call, in pino's format (`level`, `time`, `service`, `log`, the entry's fields,
 * `msg`: what `pino().info(entry, 'call finished')` printed), formatted by hand: the line is built
 * with one template string instead of pino's generic serialisation, which cost more than the rest
 * of the gateway's own per-call work. Lines go to a buffered stdout writer (sonic-boom, pino's
 * destination), so that a busy gateway does one `write(2)` per few KiB of log instead of one per
 * call. The buffer is flushed every second and on shutdown.
 */
export class PinoAccessLog implements AccessLog {
  private readonly destination: ReturnType<typeof pino.destination>;
  private readonly enabled: boolean;
  private readonly timer: NodeJS.Timeout;
  /** The ISO time of `lastMs`: consecutive calls in the same millisecond share it. */
  private lastMs = 0;
  private lastTime = '';

  /** `fd`: stdout unless given (tests). */
  constructor(level = 'info', fd = 1) {
    this.destination = pino.destination({ dest: fd, sync: false, minLength: 8 * 1024 });
    const threshold = pino.levels.values[level];
    this.enabled = threshold !== undefined && threshold <= INFO_LEVEL;
    this.timer = setInterval(() => this.destination.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  record(entry: AccessLogEntry): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastTime = new Date(now).toISOString();
    }
    const cluster = entry.cluster === undefined ? '' : `,"cluster":${jsonString(entry.cluster)}`;
    const endpoint = entry.endpoint === undefined ? '' : `,"endpoint":${jsonString(entry.endpoint)}`;
    const reason = entry.reason === undefined ? '' : `,"reason":${jsonString(entry.reason)}`;
    this.destination.write(
      `{"level":30,"time":"${this.lastTime}","service":"gateway","log":"access","method":${jsonString(entry.method)},"grpcStatus":${entry.grpcStatus},"durationMs":${entry.durationMs}${cluster}${endpoint},"attempts":${entry.attempts},"transfers":${entry.transfers}${reason},"msg":"call finished"}\n`,
    );
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
