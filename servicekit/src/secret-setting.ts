import { readFileSync } from 'node:fs';
import type { ConfigProblem } from './config-problem.js';
import type { Env } from './env-config.js';

/** A secret read from `<NAME>` or from the file `<NAME>_FILE` names, or what was wrong with them. */
export type SecretSetting =
  | { readonly ok: true; readonly value: string | undefined }
  | { readonly ok: false; readonly problem: ConfigProblem };

/**
 * A secret that may be set inline (`NAME`) or, to keep it out of the process environment and
 * `ps`, as a file (`NAME_FILE`, as Docker and Kubernetes secrets mount them). Both are trimmed (a
 * file usually ends with a newline); both unset or blank is `undefined`. Setting both, or naming a
 * file that cannot be read or holds only whitespace, is a problem naming the variable. The secret's
 * value never appears in a problem.
 */
export function readSecretSetting(
  env: Env,
  name: string,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): SecretSetting {
  const fileVariable = `${name}_FILE`;
  const inline = env[name]?.trim() ?? '';
  const path = env[fileVariable]?.trim() ?? '';
  if (inline !== '' && path !== '') {
    return {
      ok: false,
      problem: { path: [name], message: `${name} and ${fileVariable} are both set: set only one of them` },
    };
  }
  if (path === '') return { ok: true, value: inline === '' ? undefined : inline };
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return {
      ok: false,
      problem: { path: [fileVariable], message: `${fileVariable}: cannot read ${path}: ${reason}` },
    };
  }
  const value = text.trim();
  if (value === '') {
    return { ok: false, problem: { path: [fileVariable], message: `${fileVariable}: ${path} is empty` } };
  }
  return { ok: true, value };
}
