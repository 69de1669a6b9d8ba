import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runScenario } from '../runner/run-scenario.js';
import { findScenario } from '../scenarios/registry.js';
import { ComposeStack, type StartedComposeStack } from './compose-stack.js';

const runtime = inject('containerRuntime');

describe('container runtime probe', () => {
  it('answers within the probe deadline', () => {
    expect(typeof runtime.available).toBe('boolean');
    expect(runtime.reason).not.toBe('');
  });
});

// Docker Compose needs an engine; where none answers this suite is reported as skipped, never passed.
describe.skipIf(!runtime.available)(`compose stack driver (${runtime.reason})`, () => {
  let stack: StartedComposeStack | undefined;

  beforeAll(async () => {
    stack = await new ComposeStack().start();
  }, 600_000);

  afterAll(async () => {
    await stack?.stop();
  }, 120_000);

  it('lists three worker containers by hostname', async () => {
    expect(await stack?.workerPods()).toHaveLength(3);
  });

  it('runs stream_subscription_myservice_stop through docker kill and docker start', async () => {
    const scenario = findScenario('stream_subscription_myservice_stop');
    if (stack === undefined || scenario === undefined) throw new Error('no stack');
    const result = await runScenario(
      scenario,
      { gatewayAddress: stack.gatewayAddress, jwtSecret: stack.jwtSecret, driver: stack, freshStack: true },
      { username: 'TestUser', password: 'TestPassword' },
      () => {},
    );
    expect(result.error).toBeUndefined();
  }, 120_000);
});
