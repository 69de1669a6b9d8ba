import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Path of a compiled entry point of this workspace, e.g. `distFile('main.js')`. */
export function distFile(name: string): string {
  const path = fileURLToPath(new URL(`../../dist/${name}`, import.meta.url));
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: build first with \`npx tsc -b auth/tsconfig.build.json\``);
  }
  return path;
}
