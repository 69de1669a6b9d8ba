import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** vitest globalSetup: the process tests run `node service/dist/main.js`, so compile it first (incremental). */
export function setup(): void {
  execFileSync('npx', ['tsc', '-b', 'service/tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
}
