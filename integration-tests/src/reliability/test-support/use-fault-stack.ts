import { afterAll, afterEach, beforeAll } from 'vitest';
import { FaultStack, type FaultStackOptions } from '../fault-stack.js';

export interface FaultStackFixture {
  /** The started stack (valid inside tests and hooks registered after this call). */
  readonly stack: FaultStack;
}

/**
 * One {@link FaultStack} for the enclosing describe (or file): started in beforeAll, stopped in
 * afterAll. When a test fails, the last lines of every component's log are printed, and the log
 * directory is kept (and named) instead of removed.
 */
export function useFaultStack(options: FaultStackOptions = {}): FaultStackFixture {
  let stack: FaultStack | undefined;
  let failed = false;
  beforeAll(async () => {
    stack = await FaultStack.start(options);
  });
  afterEach((context) => {
    if (context.task.result?.state !== 'fail' || stack === undefined) return;
    failed = true;
    process.stderr.write(`--- logs after "${context.task.name}" ---\n${stack.describeLogs(20)}\n`);
  });
  afterAll(async () => {
    if (stack === undefined) return;
    await stack.stop({ removeLogs: !failed });
    if (failed) process.stderr.write(`fault stack logs kept in ${stack.logDir}\n`);
  });
  return {
    get stack(): FaultStack {
      if (stack === undefined)
        throw new Error('the fault stack is not started (use it inside tests or later hooks)');
      return stack;
    },
  };
}
