import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'integration-tests',
    include: ['src/**/*.test.ts'],
    // The scale-out suites run on their own, after this project (vitest.scale-out.config.ts).
    exclude: ['src/scale-out/**'],
    // Probes for a container runtime once; the compose suite is skipped (and says why) without one.
    globalSetup: ['src/harness/test-support/container-runtime-setup.ts'],
    // Every scenario file starts a whole stack (7 processes). Three at a time keeps a 2-core
    // machine busy without starving the stacks' readiness deadlines.
    maxWorkers: 3,
    // Runs after the unit and component projects (group 0) instead of competing with them for the
    // two cores; vitest also requires its own group since its maxWorkers differs.
    sequence: { groupOrder: 1 },
    testTimeout: 20_000,
    hookTimeout: 90_000,
  },
});
