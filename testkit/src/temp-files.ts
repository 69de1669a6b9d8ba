import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempFiles<K extends string> {
  /** The fresh directory, `<tmpdir>/<prefix>XXXXXX`. */
  readonly dir: string;
  /** Each file's absolute path, by its name. */
  readonly paths: Readonly<Record<K, string>>;
}

/** A fresh directory under the system's temp dir holding `files` (name → content). */
export function writeTempFiles<K extends string>(
  prefix: string,
  files: Readonly<Record<K, string>>,
): TempFiles<K> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const paths = {} as Record<K, string>;
  for (const name of Object.keys(files) as K[]) {
    paths[name] = join(dir, name);
    writeFileSync(paths[name], files[name]);
  }
  return { dir, paths };
}
