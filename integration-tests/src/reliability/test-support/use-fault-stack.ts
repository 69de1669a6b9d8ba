import { afterAll, afterEach, beforeAll } from 'vitest';
import type { StartedProcessStack } from '../../harness/started-process-stack.js';
import { type FaultStackOptions, faultStack } from '../fault-stack.js';

export interface FaultStackFixture {
  /** The started stack (valid inside tests and hooks registered after this call). */
  readonly stack: StartedProcessStack;
}

/**
 * One {@link faultStack} for the enclosing describe (or file): started in beforeAll, stopped in
 * afterAll. When a test fails, the last lines of every component's log are printed, and the log
 * directory is kept (and named) instead of removed.
 */
export function useFaultStack(options: FaultStackOptions = {}): FaultStackFixture {
  let stack: StartedProcessStack | undefined;
  let failed = false;
  beforeAll(async () => {
    stack = await faultStack(options).start();
  });
  afterEach((context) => {
    if (context.task.result?.state !== 'fail' || stack === undefined) return;
    failed = true;
    process.stderr.write(`--- logs after "${context.task.name}" ---\n${stack.describeLogs(20)}\n`);
  });
  afterAll(async () => {
    if (stack === undefined) return;
    const stopped = await stack.stop();
    if (failed) process.stderr.write(`fault stack logs kept in ${stack.logDir}\n`);
    else stopped.removeLogs();
  });
  return {
    get stack(): StartedProcessStack {
      if (stack === undefined)
        throw new Error('the fault stack is not started (use it inside tests or later hooks)');
      return stack;
    },
  };
}
