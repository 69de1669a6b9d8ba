/** How a worker process ended, as far as the driver can tell (`null` when it cannot). */
export interface WorkerExit {
  readonly code: number | null;
  readonly signal: string | null;
}

export interface ServiceLog {
  readonly name: string;
  readonly text: string;
}

/**
 * The fault operations the scenarios inject (REFERENCE.md 7.1): the process-level equivalents of
 * `docker kill`, `docker-compose stop myservice` and `docker start`. Implemented by the local
 * process stack, the Docker Compose stack and a stack started by `make up` in the background.
 * Workers are named by their `pod_name` (= instance id).
 */
export interface StackDriver {
  readonly kind: 'process' | 'compose' | 'attached';
  /** The pod names of every worker of the stack, running or not, in a stable order. */
  workerPods(): Promise<string[]>;
  /** SIGKILL the worker (`docker kill`) and wait until it is gone. */
  killWorker(pod: string): Promise<void>;
  /** SIGTERM every worker (`docker-compose stop myservice`) and wait until all have exited. */
  stopAllWorkers(): Promise<void>;
  /** Start a stopped worker again with the same instance id and wait until it is registered. */
  startWorker(pod: string): Promise<void>;
  /** Start every stopped worker again (`docker-compose start myservice`). */
  startAllWorkers(): Promise<void>;
  /** Resolves when the worker has exited on its own (e.g. after MyServiceShutdown). */
  waitForWorkerExit(pod: string, timeoutMs: number): Promise<WorkerExit>;
  workerLog(pod: string): Promise<string>;
  /** Every service's log, printed when a scenario fails. */
  logs(): Promise<ServiceLog[]>;
}

export class UnknownPodError extends Error {
  constructor(pod: string, known: readonly string[]) {
    super(`no worker with pod_name "${pod}" in this stack (workers: ${known.join(', ') || 'none'})`);
  }
}
