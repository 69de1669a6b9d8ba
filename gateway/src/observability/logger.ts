import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/** Never logged: the token travels in `authorization` (STYLE.md, Logging). */
const REDACT_PATHS = ['authorization', 'headers.authorization', 'metadata.authorization', '*.authorization'];

export interface CreateLoggerOptions {
  /** pino level name (`LOG_LEVEL`), default `info`. */
  readonly level?: string;
  readonly destination?: DestinationStream;
}

/** The gateway's structured JSON logger (pino), written to stdout synchronously. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: 'gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}
