import { format } from 'node:util';
import { setLogger } from '@grpc/grpc-js';
import type { Logger } from '../logger.js';

/**
 * grpc-js writes its own diagnostics to stderr as plain text; send them through pino instead, so
 * stdout stays JSON lines and stderr carries only the start-up refusal message. What grpc-js logs
 * is still chosen by its own GRPC_VERBOSITY/GRPC_TRACE variables (errors only by default).
 */
export function routeGrpcLogs(logger: Logger): void {
  const child = logger.child({ component: 'grpc-js' });
  setLogger({
    error: (...args: unknown[]) => child.warn(format(...args)),
    info: (...args: unknown[]) => child.info(format(...args)),
    debug: (...args: unknown[]) => child.debug(format(...args)),
  });
}
