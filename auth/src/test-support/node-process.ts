import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@stickygw/testkit';

/** Path of a compiled entry point of this workspace, e.g. `distFile('main.js')`. */
export function distFile(name: string): string {
  const path = fileURLToPath(new URL(`../../dist/${name}`, import.meta.url));
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: build first with \`npx tsc -b auth/tsconfig.build.json\``);
  }
  return path;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A `node <script>` child with its output collected. */
export interface NodeProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process exits; rejects after `timeoutMs` (the process is then killed). */
  exit(timeoutMs?: number): Promise<Exit>;
  /** Resolves with the first stdout JSON line matching `predicate`. */
  waitForLogLine(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** SIGKILL if still running. */
  kill(): void;
}

/**
 * Starts `node <script> ...args` with only PATH and `env` in its environment, so variables of the
 * developer's shell cannot change what a test sees.
 */
export function runNode(script: string, env: Record<string, string>, args: string[] = []): NodeProcess {
  const child = spawn(process.execPath, [script, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exit: async (timeoutMs = 5_000) => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${script} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([exited, timedOut]);
      } finally {
        clearTimeout(timer);
      }
    },
    waitForLogLine: (predicate, timeoutMs = 10_000) =>
      waitFor(
        () => {
          if (!running()) throw new Error(`process exited; stderr: ${stderr}`);
          for (const text of stdout.split('\n')) {
            if (!text.startsWith('{')) continue;
            const line = JSON.parse(text) as Record<string, unknown>;
            if (predicate(line)) return line;
          }
          return undefined;
        },
        { description: `a log line from ${script}`, timeoutMs },
      ),
    kill: () => {
      if (running()) child.kill('SIGKILL');
    },
  };
}
