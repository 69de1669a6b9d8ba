import type { LogLevel } from '@stickygw/servicekit';
import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** JSON lines on stdout. Nothing logged by this service carries a password or a token. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'auth' } });
}
