import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A child process the bench started and must stop by its PID. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Last lines of stdout and stderr, for error messages. */
  recentOutput(): string;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** `code N` or `signal S` once the process has exited, undefined while it runs. */
  exitStatus(): string | undefined;
  /** SIGKILL at once (the backend-killed-under-load check); resolves when it is gone. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** If the harness dies, its children must not outlive it on the shared machine. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export interface SpawnOptions {
  readonly name: string;
  readonly command: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Resolves start-up once a line satisfies it (e.g. the `"msg":"listening"` line); its value is returned. */
  readonly readyLine?: (line: string) => unknown;
  readonly readyTimeoutMs?: number;
}

export interface Started<T> {
  readonly process: ManagedProcess;
  /** What `readyLine` returned, undefined without it. */
  readonly ready: T | undefined;
}

/** Spawns a process; with `readyLine`, waits for it (failing fast if the process exits first). */
export async function spawnManaged<T = unknown>(options: SpawnOptions): Promise<Started<T>> {
  installExitHook();
  const child = spawn(options.command, [...(options.args ?? [])], {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`could not start ${options.name} (${options.command}): is it installed?`);
  }
  live.add(child);
  const tail: string[] = [];
  let onLine: ((line: string) => void) | undefined;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
      onLine?.(line);
    });
  }
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });
  const handle: ManagedProcess = {
    name: options.name,
    pid,
    recentOutput: () => tail.join('\n'),
    hasExited: () => child.exitCode !== null || child.signalCode !== null,
    exitStatus: () =>
      child.signalCode !== null
        ? `signal ${child.signalCode}`
        : child.exitCode !== null
          ? `code ${child.exitCode}`
          : undefined,
    kill: async () => {
      if (handle.hasExited()) return;
      child.kill('SIGKILL');
      await exited;
    },
    stop: async (graceMs = 3_000) => {
      if (handle.hasExited()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  const readyLine = options.readyLine;
  if (readyLine === undefined) return { process: handle, ready: undefined };
  const timeoutMs = options.readyTimeoutMs ?? 15_000;
  try {
    const ready = await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${options.name} did not become ready within ${timeoutMs} ms`)),
        timeoutMs,
      );
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${options.name} exited (code ${code}, signal ${signal}) before it was ready`));
      });
      onLine = (line) => {
        const value = readyLine(line);
        if (value !== undefined && value !== false) {
          clearTimeout(timer);
          onLine = undefined;
          resolve(value as T);
        }
      };
    });
    return { process: handle, ready };
  } catch (error) {
    await handle.stop(1_000);
    throw new Error(
      `${(error as Error).message}\n--- last output of ${options.name} ---\n${handle.recentOutput()}`,
    );
  }
}

/** readyLine for processes that log one JSON line `{"msg":"listening",...,"port":N}`. */
export function listeningPort(line: string): number | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as { msg?: unknown; port?: unknown };
    return parsed.msg === 'listening' && typeof parsed.port === 'number' ? parsed.port : undefined;
  } catch {
    return undefined;
  }
}
