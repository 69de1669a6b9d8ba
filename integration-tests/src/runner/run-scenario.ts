import type { MyServiceAPIClient } from '@stickygw/proto';
import type { StackDriver } from '../harness/stack-driver.js';
import { createClient } from '../scenarios/helpers/grpc-calls.js';
import type { ScenarioDefinition } from '../scenarios/registry.js';
import type { ScenarioContext } from '../scenarios/scenario-context.js';

/** The stack a scenario runs against. */
export interface ScenarioTarget {
  readonly gatewayAddress: string;
  readonly jwtSecret: string;
  readonly driver: StackDriver | null;
  readonly freshStack: boolean;
}

export interface ScenarioCredentials {
  readonly username: string;
  readonly password: string;
}

export interface ScenarioResult {
  readonly name: string;
  readonly passed: boolean;
  /** Why it failed. */
  readonly error?: string;
  readonly durationMs: number;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs one scenario under its timeout. Every channel the scenario opened is closed afterwards,
 * which also ends any call a timed-out scenario is still waiting on.
 */
export async function runScenario(
  scenario: ScenarioDefinition,
  target: ScenarioTarget,
  credentials: ScenarioCredentials,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const startedAt = Date.now();
  const controller = new AbortController();
  const clients: MyServiceAPIClient[] = [];
  const ctx: ScenarioContext = {
    gatewayAddress: target.gatewayAddress,
    username: credentials.username,
    password: credentials.password,
    jwtSecret: target.jwtSecret,
    driver: target.driver,
    freshStack: target.freshStack,
    signal: controller.signal,
    client: () => {
      const client = createClient(target.gatewayAddress);
      clients.push(client);
      return client;
    },
    log,
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`timed out after ${scenario.timeoutMs} ms`));
    }, scenario.timeoutMs);
  });
  try {
    await Promise.race([scenario.run(ctx), timeout]);
    return { name: scenario.name, passed: true, durationMs: Date.now() - startedAt };
  } catch (error) {
    return {
      name: scenario.name,
      passed: false,
      error: messageOf(error),
      durationMs: Date.now() - startedAt,
    };
  } finally {
    clearTimeout(timer);
    for (const client of clients) client.close();
  }
}
