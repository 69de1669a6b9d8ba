/**
 * Last line of defence against leaked processes: every {@link ManagedProcess} is registered here
 * until it has exited. Normal teardown stops processes itself; these hooks only cover the paths where
 * that cannot run (an exception escaping the runner, `process.exit`, SIGINT/SIGTERM/SIGHUP of the runner).
 */

interface Killable {
  /** Sends `signal` to the whole process group, synchronously; never throws. */
  signal(signal: NodeJS.Signals): void;
}

const live = new Set<Killable>();
const TEARDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;

function killAll(): void {
  for (const child of live) child.signal('SIGKILL');
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // A program that installed its own handler (a CLI, `make up`) stops its processes gracefully itself;
  // the 'exit' hook below still catches whatever it leaves behind.
  if (process.listenerCount(signal) > 1) return;
  killAll();
  process.removeListener(signal, onSignal);
  // Re-raise so the runner dies of the signal, exactly as it would have without us.
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of TEARDOWN_SIGNALS) process.on(signal, onSignal);
}

export function registerProcess(child: Killable): void {
  install();
  live.add(child);
}

export function unregisterProcess(child: Killable): void {
  live.delete(child);
}
