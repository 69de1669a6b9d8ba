import { type Logger, pino } from 'pino';
import type { ServiceConfig } from '../config/service-config.js';

/** JSON lines to stdout; `authorization` is redacted wherever it might end up in a log object. */
export function createLogger(level: ServiceConfig['logLevel']): Logger {
  return pino({
    name: 'service',
    level,
    redact: { paths: ['authorization', '*.authorization', 'token', '*.token'], censor: '[redacted]' },
  });
}
