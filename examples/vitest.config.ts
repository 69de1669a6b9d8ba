import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'examples',
    include: ['*/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    testTimeout: 60_000,
    // Every example starts a gateway and backends as processes: they run after the other projects,
    // two at a time, instead of competing with the unit tests and the stacks for the two cores.
    maxWorkers: 2,
    sequence: { groupOrder: 3 },
    hookTimeout: 120_000,
  },
});
