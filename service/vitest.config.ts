import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'service',
    include: ['src/**/*.test.ts'],
    globalSetup: ['src/test-support/build-dist.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
