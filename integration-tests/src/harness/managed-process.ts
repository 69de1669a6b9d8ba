import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { registerProcess, unregisterProcess } from './process-registry.js';

export interface ProcessSpec {
  /** Short name used in messages and log headers (`gateway`, `worker-2`). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** The child's whole environment on top of PATH/HOME: nothing else leaks in from the runner. */
  readonly env: Readonly<Record<string, string>>;
  /** stdout and stderr are appended here; a restart appends to the same file. */
  readonly logFile: string;
  readonly cwd: string;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The variables a child inherits from the runner; everything else comes from its spec. */
const INHERITED_ENV = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG'] as const;

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

/**
 * One child process in its own process group (so signals reach anything it forks), with its output
 * in a log file. States: running → exited; `exited` settles exactly once, whatever ended the process.
 */
export class ManagedProcess {
  readonly exited: Promise<ExitStatus>;
  #exitStatus: ExitStatus | undefined;

  private constructor(
    readonly spec: ProcessSpec,
    child: ChildProcess,
    readonly pid: number,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exitStatus = { code, signal };
        unregisterProcess(this);
        resolve(this.#exitStatus);
      });
    });
  }

  static start(spec: ProcessSpec): ManagedProcess {
    appendFileSync(spec.logFile, `--- ${spec.name}: starting ${new Date().toISOString()} ---\n`);
    const fd = openSync(spec.logFile, 'a');
    const env: Record<string, string> = {};
    for (const key of INHERITED_ENV) {
      const value = process.env[key];
      if (value !== undefined) env[key] = value;
    }
    let child: ChildProcess;
    try {
      child = spawn(spec.command, [...spec.args], {
        cwd: spec.cwd,
        env: { ...env, ...spec.env },
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(fd);
    }
    if (child.pid === undefined) {
      throw new Error(`${spec.name}: could not start ${spec.command} (is it installed?)`);
    }
    const managed = new ManagedProcess(spec, child, child.pid);
    // Without a listener an 'error' (e.g. a failed kill) would crash the runner.
    child.on('error', (error) => appendFileSync(spec.logFile, `--- ${spec.name}: ${error.message} ---\n`));
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

  signalGroup(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: the group is already gone; 'exit' is on its way.
    }
  }

  /** SIGKILL, then wait for the exit to be reaped. */
  async kill(): Promise<ExitStatus> {
    this.signalGroup('SIGKILL');
    return this.exited;
  }

  /** SIGTERM; SIGKILL if the process is still alive after `graceMs`. */
  async stop(graceMs = 5_000): Promise<ExitStatus> {
    if (!this.running) return this.exited;
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  readLog(): string {
    return existsSync(this.spec.logFile) ? readFileSync(this.spec.logFile, 'utf8') : '';
  }
}
