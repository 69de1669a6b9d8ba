import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { registerProcess, unregisterProcess } from './process-registry.js';
import { waitFor } from './wait-for.js';

export interface ProcessSpec {
  /** Short name used in messages and log headers (`gateway`, `worker-2`). */
  readonly name: string;
  readonly command: string;
  readonly args?: readonly string[];
  /** The child's whole environment on top of PATH/HOME/TMPDIR/TZ/LANG: nothing else leaks in from the runner. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /**
   * stdout and stderr are appended here (a restart appends to the same file), so they survive the
   * runner. Without it both are kept in memory, apart, up to {@link MEMORY_LIMIT} characters each.
   */
  readonly logFile?: string;
  /** Written to stdin, which is then closed; without it the child's stdin is closed from the start. */
  readonly input?: string;
}

/** How a process ended: exactly one of the two is set. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface WaitForLineOptions {
  /** What is awaited, for messages. */
  readonly description?: string;
  readonly timeoutMs?: number;
}

/** The variables a child inherits from the runner; everything else comes from its spec. */
const INHERITED_ENV = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG'] as const;
/** Characters kept per stream in memory; older output is dropped (a long run must not grow the runner). */
const MEMORY_LIMIT = 4 * 1024 * 1024;
/** Lines of output quoted in failure messages. */
const TAIL_LINES = 30;

export function describeExit(status: ExitStatus): string {
  return status.signal !== null ? `killed by ${status.signal}` : `exited with code ${status.code}`;
}

/** The last `lines` lines of `text`. */
export function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return all.length <= lines
    ? all.join('\n')
    : [`... (${all.length - lines} earlier lines)`, ...all.slice(-lines)].join('\n');
}

/** The `port` of a `{"msg":"listening",...,"port":N}` log line, the one every service of the repo writes. */
function listeningPort(line: Record<string, unknown>): number | undefined {
  return line.msg === 'listening' && typeof line.port === 'number' ? line.port : undefined;
}

function parseJsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One child process in its own process group (so signals reach anything it forks), registered so it
 * is killed if the runner exits first. States: running → exited; `exited` settles exactly once,
 * whatever ended the process, after its output has been read to the end.
 */
export class ManagedProcess {
  readonly exited: Promise<ExitStatus>;
  #exitStatus: ExitStatus | undefined;
  #stdout = '';
  #stderr = '';
  #output = '';

  private constructor(
    readonly spec: ProcessSpec,
    child: ChildProcess,
    readonly pid: number,
  ) {
    child.once('exit', (code, signal) => {
      this.#exitStatus = { code, signal };
      unregisterProcess(this);
    });
    this.exited = new Promise((resolve) => {
      child.once('close', () => resolve(this.#exitStatus ?? { code: null, signal: null }));
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stdout = keepLast(this.#stdout + chunk);
      this.#output = keepLast(this.#output + chunk);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr = keepLast(this.#stderr + chunk);
      this.#output = keepLast(this.#output + chunk);
    });
  }

  static start(spec: ProcessSpec): ManagedProcess {
    const env: Record<string, string> = {};
    for (const key of INHERITED_ENV) {
      const value = process.env[key];
      if (value !== undefined) env[key] = value;
    }
    const stdin = spec.input === undefined ? 'ignore' : 'pipe';
    let fd: number | undefined;
    if (spec.logFile !== undefined) {
      appendFileSync(spec.logFile, `--- ${spec.name}: starting ${new Date().toISOString()} ---\n`);
      fd = openSync(spec.logFile, 'a');
    }
    let child: ChildProcess;
    try {
      child = spawn(spec.command, [...(spec.args ?? [])], {
        cwd: spec.cwd,
        env: { ...env, ...spec.env },
        detached: true,
        stdio: fd === undefined ? [stdin, 'pipe', 'pipe'] : [stdin, fd, fd],
      });
    } finally {
      // The child holds its own copy of the descriptor.
      if (fd !== undefined) closeSync(fd);
    }
    // Without a listener an 'error' (a failed spawn or kill) would crash the runner.
    child.on('error', (error) => {
      if (spec.logFile !== undefined)
        appendFileSync(spec.logFile, `--- ${spec.name}: ${error.message} ---\n`);
    });
    if (child.pid === undefined) {
      throw new Error(`${spec.name}: could not start ${spec.command} (is it installed?)`);
    }
    if (spec.input !== undefined) child.stdin?.end(spec.input);
    const managed = new ManagedProcess(spec, child, child.pid);
    registerProcess(managed);
    return managed;
  }

  get name(): string {
    return this.spec.name;
  }

  get running(): boolean {
    return this.#exitStatus === undefined;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.#exitStatus;
  }

  /** stdout so far (memory mode only: with a log file both streams go to the file). */
  stdout(): string {
    return this.#memoryOnly(this.#stdout);
  }

  /** stderr so far (memory mode only). */
  stderr(): string {
    return this.#memoryOnly(this.#stderr);
  }

  /** Everything the process wrote, interleaved: the log file, or what is kept in memory. */
  output(): string {
    if (this.spec.logFile === undefined) return this.#output;
    return existsSync(this.spec.logFile) ? readFileSync(this.spec.logFile, 'utf8') : '';
  }

  /** The last lines of output, named, for failure messages. */
  describeOutput(lines = TAIL_LINES): string {
    return `--- last output of ${this.name} ---\n${tail(this.output(), lines)}`;
  }

  #memoryOnly(text: string): string {
    if (this.spec.logFile !== undefined) {
      throw new Error(`${this.name} writes to ${this.spec.logFile}: read output() instead`);
    }
    return text;
  }

  /**
   * Resolves with the first value `match` returns for a line of stdout (of the log file with one),
   * looking at lines already written too. Fails at once, with the last output, if the process exits.
   */
  async waitForLine<T>(
    match: (line: string) => T | undefined | false,
    options: WaitForLineOptions = {},
  ): Promise<T> {
    const description = options.description ?? 'a matching output line';
    const timeoutMs = options.timeoutMs ?? 15_000;
    const find = (): T | undefined => {
      const text = this.spec.logFile === undefined ? this.#stdout : this.output();
      for (const line of text.split('\n')) {
        const value = match(line);
        if (value !== undefined && value !== false) return value;
      }
      return undefined;
    };
    try {
      return await waitFor(
        () => {
          const found = find();
          if (found !== undefined) return found;
          const status = this.#exitStatus;
          if (status !== undefined) {
            throw new ProcessGone(`${this.name} ${describeExit(status)} before ${description}`);
          }
          return undefined;
        },
        { description, timeoutMs, failFast: (error) => error instanceof ProcessGone },
      );
    } catch (error) {
      const reason =
        error instanceof ProcessGone ? error.message : `${this.name}: ${(error as Error).message}`;
      throw new Error(`${reason}\n${this.describeOutput()}`);
    }
  }

  /** Resolves with the first JSON log line `predicate` accepts. */
  waitForJsonLine(
    predicate: (line: Record<string, unknown>) => boolean,
    options: WaitForLineOptions = {},
  ): Promise<Record<string, unknown>> {
    return this.waitForLine(
      (text) => {
        const line = parseJsonLine(text);
        return line !== undefined && predicate(line) ? line : undefined;
      },
      { description: 'a matching JSON log line', ...options },
    );
  }

  /** The port of the `{"msg":"listening",...,"port":N}` line, once it is written. */
  listeningPort(timeoutMs?: number): Promise<number> {
    return this.waitForLine((text) => listeningPort(parseJsonLine(text) ?? {}), {
      description: 'the "listening" log line',
      timeoutMs,
    });
  }

  /** Sends `signal` to the whole process group; never throws. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: the group is already gone; 'exit' is on its way.
    }
  }

  /** SIGKILL, then wait for the exit to be reaped. */
  async kill(): Promise<ExitStatus> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** SIGTERM; SIGKILL if the process is still alive after `graceMs`. Idempotent. */
  async stop(graceMs = 5_000): Promise<ExitStatus> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves when the process exits on its own; rejects (leaving it running) after `timeoutMs`. */
  async waitForExit(timeoutMs = 10_000): Promise<ExitStatus> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms\n${this.describeOutput()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

class ProcessGone extends Error {}

function keepLast(text: string): string {
  return text.length <= MEMORY_LIMIT ? text : text.slice(text.length - MEMORY_LIMIT);
}
