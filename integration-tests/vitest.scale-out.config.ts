import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'scale-out',
    include: ['src/scale-out/**/*.test.ts'],
    // Each file runs three gateways, ten or more workers, auth, a discoverer and Redis (a cluster of
    // three for one file): one file at a time, after every other project, so their 5 s call
    // deadlines are not measured against other stacks starting on the same two cores.
    maxWorkers: 1,
    sequence: { groupOrder: 2 },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
