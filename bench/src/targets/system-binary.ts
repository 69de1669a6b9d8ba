import { spawnSync } from 'node:child_process';

/**
 * The version line of a system binary (`nginx -v`, `haproxy -v`, `h2load --version`), or undefined
 * when it is not installed. Some print it on stderr.
 */
export function binaryVersion(command: string, args: readonly string[]): string | undefined {
  const result = spawnSync(command, [...args], { encoding: 'utf8', timeout: 5_000 });
  if (result.error !== undefined || result.status !== 0) return undefined;
  const text = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
  return text.split('\n')[0];
}
