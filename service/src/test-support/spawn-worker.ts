import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@stickygw/testkit';

const MAIN_PATH = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedWorker {
  readonly child: ChildProcess;
  /** stdout lines parsed as JSON where possible. */
  readonly logs: Record<string, unknown>[];
  stderr(): string;
  readonly exited: Promise<WorkerExit>;
  /** Port from the `listening` log line. */
  listeningPort(): Promise<number>;
  /** SIGKILL if still running; for `finally` blocks. */
  kill(): Promise<void>;
}

/** Runs `node service/dist/main.js` with exactly `env` (plus PATH), as a harness would. */
export function spawnWorker(env: Record<string, string>): SpawnedWorker {
  const child = spawn(process.execPath, [MAIN_PATH], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<WorkerExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    listeningPort: () =>
      waitFor(
        () => {
          if (hasExited) throw new Error(`worker exited early; stderr: ${stderr}`);
          const line = logs.find((log) => log.msg === 'listening');
          return typeof line?.port === 'number' ? line.port : undefined;
        },
        { description: 'the worker to log "listening"', timeoutMs: 10_000 },
      ),
    kill: async () => {
      if (hasExited) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
