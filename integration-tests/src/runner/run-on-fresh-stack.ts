import type { ScenarioDefinition } from '../scenarios/registry.js';
import { formatLogs } from './format-logs.js';
import { type FreshStackOptions, startFreshStack } from './fresh-stack.js';
import { runScenario, type ScenarioCredentials, type ScenarioResult } from './run-scenario.js';

export interface FreshRunOptions extends FreshStackOptions {
  readonly credentials: ScenarioCredentials;
  /** Scenario progress lines. */
  readonly log: (line: string) => void;
  /** Receives the services' logs when the scenario fails. */
  readonly onFailureLogs: (text: string) => void;
}

/**
 * Starts a stack for this scenario alone (workers never release their session, so a used stack
 * would poison the next scenario), runs it, prints the logs if it failed, and always stops the stack.
 */
export async function runOnFreshStack(
  scenario: ScenarioDefinition,
  options: FreshRunOptions,
): Promise<ScenarioResult> {
  const startedAt = Date.now();
  let stack: Awaited<ReturnType<typeof startFreshStack>>;
  try {
    stack = await startFreshStack(options);
  } catch (error) {
    return {
      name: scenario.name,
      passed: false,
      error: error instanceof Error ? error.message : String(error),
      durationMs: Date.now() - startedAt,
    };
  }
  let result: ScenarioResult | undefined;
  try {
    const outcome = await runScenario(
      scenario,
      {
        gatewayAddress: stack.gatewayAddress,
        jwtSecret: stack.jwtSecret,
        driver: stack.driver,
        freshStack: true,
      },
      options.credentials,
      options.log,
    );
    result = { ...outcome, durationMs: Date.now() - startedAt };
    if (!result.passed) options.onFailureLogs(formatLogs(await stack.driver.logs(), stack.logDir));
    return result;
  } finally {
    await stack.stop(result?.passed !== true);
  }
}
