import { defineConfig } from 'vitest/config';

// One runner for the repo: every workspace is a vitest project with its own config.
export default defineConfig({
  test: {
    projects: [
      'proto',
      'servicekit',
      'testkit',
      'auth',
      'discoverer',
      'service',
      'gateway',
      'integration-tests',
      'integration-tests/vitest.scale-out.config.ts',
      'bench',
      'examples',
    ],
  },
});
