import type { ScenarioContext } from '../scenario-context.js';
import { check } from './status-assertions.js';

/** A worker exits about 200 ms after answering MyServiceShutdown (REFERENCE.md 5.5). */
const SHUTDOWN_EXIT_TIMEOUT_MS = 10_000;

/**
 * After a successful MyServiceShutdown the worker must exit with code 0. With a driver this is
 * observed directly; without one the scenario cannot see processes and relies on its calls.
 */
export async function awaitWorkerExit(ctx: ScenarioContext, pod: string): Promise<void> {
  if (ctx.driver === null) return;
  const exit = await ctx.driver.waitForWorkerExit(pod, SHUTDOWN_EXIT_TIMEOUT_MS);
  // A driver that cannot read exit codes (a stack started elsewhere) reports null.
  check(
    exit.code === null || exit.code === 0,
    `${pod} should exit with code 0 after MyServiceShutdown, ${exit.signal ? `was killed by ${exit.signal}` : `exited with ${exit.code}`}`,
  );
  ctx.log(`${pod} exited after MyServiceShutdown`);
}
