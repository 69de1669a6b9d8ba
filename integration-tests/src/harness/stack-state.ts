import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './repo-paths.js';

/** How to start one worker again from another process (the attached driver's `startWorker`). */
export interface WorkerState {
  readonly pod: string;
  readonly pid: number;
  readonly port: number;
  readonly logFile: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

interface ProcessState {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
}

/**
 * What `make up` leaves behind for `make down` and for the CLI's `--gateway` runs: who runs the
 * stack and how to reach and control it. Written once the stack is ready, removed when it stops.
 */
export type StackState =
  | {
      readonly mode: 'local';
      /** The `up` process; `down` signals it. */
      readonly pid: number;
      readonly gatewayAddress: string;
      readonly discovererUrl: string;
      /** A secured stack's discoverer token file, for the CLI's own unregistrations. */
      readonly discovererTokenFile?: string;
      readonly jwtSecret: string;
      readonly logDir: string;
      readonly processes: readonly ProcessState[];
      readonly workers: readonly WorkerState[];
    }
  | {
      readonly mode: 'compose';
      readonly pid: number;
      readonly gatewayAddress: string;
      readonly jwtSecret: string;
      readonly composeCommand: readonly string[];
      readonly composeFile: string;
    };

export const STACK_DIR = join(REPO_ROOT, '.stack');
const STATE_FILE = join(STACK_DIR, 'stack.json');

export function readStackState(file = STATE_FILE): StackState | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StackState;
}

/** Replaces the file atomically, so a reader never sees half a state. */
export function writeStackState(state: StackState, file = STATE_FILE): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, file);
}

export function removeStackState(file = STATE_FILE): void {
  rmSync(file, { force: true });
}

/** True while `pid` is a live process (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name, is the state; Z = exited, not yet reaped.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Signals the process group of `pid` (every stack process leads its own group); never throws. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
