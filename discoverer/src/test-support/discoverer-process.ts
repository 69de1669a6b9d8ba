import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@stickygw/testkit';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN_JS = 'discoverer/dist/main.js';

/** Compiles the discoverer (incremental; a no-op when dist/ is current) so tests run the real entry point. */
export function buildDiscoverer(): void {
  const result = spawnSync('npx', ['tsc', '-b', 'discoverer/tsconfig.build.json'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) {
    throw new Error(`building the discoverer failed:\n${result.stdout}${result.stderr}${result.error ?? ''}`);
  }
}

/** `node discoverer/dist/main.js` with exactly the given environment (plus PATH). */
export interface DiscovererProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Waits for the `"msg":"listening"` log line and returns its `port`. */
  listening(timeoutMs?: number): Promise<number>;
  /** SIGKILL if still running. */
  kill(): Promise<void>;
}

export function spawnDiscoverer(env: Record<string, string>): DiscovererProcess {
  const child = spawn(process.execPath, [MAIN_JS], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  let exitedAlready = false;
  void exited.then(() => {
    exitedAlready = true;
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    listening: (timeoutMs = 10_000) =>
      waitFor(
        () => {
          if (exitedAlready) throw new Error(`discoverer exited early; stderr: ${err}`);
          for (const line of out.split('\n')) {
            if (!line.includes('"msg":"listening"')) continue;
            return (JSON.parse(line) as { port: number }).port;
          }
          return undefined;
        },
        { description: 'the discoverer to log "listening"', timeoutMs },
      ),
    kill: async () => {
      if (exitedAlready) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
