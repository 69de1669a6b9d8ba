import type { TestProject } from 'vitest/node';
import { probeContainerRuntime, type RuntimeProbe } from '../container-runtime.js';

declare module 'vitest' {
  export interface ProvidedContext {
    containerRuntime: RuntimeProbe;
  }
}

/** vitest globalSetup: one probe for the whole run, shared with the suites through `inject`. */
export async function setup(project: TestProject): Promise<void> {
  project.provide('containerRuntime', await probeContainerRuntime());
}
