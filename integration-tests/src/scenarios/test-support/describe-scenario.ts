import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessStack } from '../../harness/process-stack.js';
import type { StartedProcessStack } from '../../harness/started-process-stack.js';
import { formatLogs } from '../../runner/format-logs.js';
import { runScenario } from '../../runner/run-scenario.js';
import { findScenario } from '../registry.js';

/** A stack starts in a few seconds; the margin covers a machine busy with other suites. */
const STACK_START_TIMEOUT_MS = 90_000;
const STACK_STOP_TIMEOUT_MS = 30_000;

/**
 * One scenario on a FRESH local process stack of its own (beforeAll/afterAll), so no state can
 * leak between scenarios. On failure the services' logs are printed and the log files kept.
 */
export function describeScenario(name: string): void {
  const scenario = findScenario(name);
  if (scenario === undefined) throw new Error(`no scenario named ${name}`);

  describe(name, () => {
    let stack: StartedProcessStack | undefined;
    let passed = false;

    beforeAll(async () => {
      stack = await new ProcessStack().securedIfRequested().start();
    }, STACK_START_TIMEOUT_MS);

    afterAll(async () => {
      if (stack === undefined) return;
      const stopped = await stack.stop();
      for (const process of stack.processes())
        expect(process.running, `${process.name} still running`).toBe(false);
      if (passed) stopped.removeLogs();
    }, STACK_STOP_TIMEOUT_MS);

    it(
      `passes on a fresh 3-worker stack`,
      async () => {
        if (stack === undefined) throw new Error('the stack did not start');
        const lines: string[] = [];
        const result = await runScenario(
          scenario,
          {
            gatewayAddress: stack.gatewayAddress,
            jwtSecret: stack.jwtSecret,
            driver: stack,
            freshStack: true,
          },
          { username: 'TestUser', password: 'TestPassword' },
          (line) => lines.push(line),
        );
        if (!result.passed) {
          console.error(
            `${name}: ${result.error}\n${lines.join('\n')}\n${formatLogs(await stack.logs(), stack.logDir)}`,
          );
          throw new Error(result.error);
        }
        passed = true;
      },
      scenario.timeoutMs + 5_000,
    );
  });
}
