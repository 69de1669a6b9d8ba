import { fileURLToPath } from 'node:url';

/** The repository root (this file is bench/src/paths.ts, compiled to bench/dist/paths.js). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A compiled bench entry point, e.g. `echo-backend-main.js`. */
export function benchScript(file: string): string {
  return fileURLToPath(new URL(`../dist/${file}`, import.meta.url));
}

/** A config template shipped in bench/templates. */
export function templatePath(file: string): string {
  return fileURLToPath(new URL(`../templates/${file}`, import.meta.url));
}
