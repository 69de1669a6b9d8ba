// Typechecks every workspace including its tests (the build configs exclude tests).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const { workspaces } = JSON.parse(readFileSync('package.json', 'utf8'));
let failed = 0;
for (const ws of workspaces) {
  const result = spawnSync('npx', ['tsc', '-p', `${ws}/tsconfig.json`], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
