import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** testkit/{src,dist}/ sits two levels below the repository root. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Compiles `<workspace>/tsconfig.build.json` (incremental: a no-op when dist/ is current), for tests
 * that run a workspace's real entry point as a process.
 */
export function buildWorkspace(workspace: string): void {
  const result = spawnSync('npx', ['tsc', '-b', `${workspace}/tsconfig.build.json`], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) {
    throw new Error(`building ${workspace} failed:\n${result.stdout}${result.stderr}${result.error ?? ''}`);
  }
}
