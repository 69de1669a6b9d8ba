import { fileURLToPath } from 'node:url';

/**
 * The repository root. This module sits at `integration-tests/{src,dist}/harness/`, so the root is
 * three levels up both when vitest runs the TypeScript source and when node runs the compiled output.
 */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Entry point of a workspace's built server (`<ws>/dist/main.js`). */
export function serverEntry(workspace: 'auth' | 'discoverer' | 'service' | 'gateway'): string {
  return fileURLToPath(new URL(`../../../${workspace}/dist/main.js`, import.meta.url));
}
