import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { listInstances } from '@stickygw/testkit';
import { checkGrpcHealth } from './grpc-probe.js';
import { type ServiceLog, type StackDriver, UnknownPodError, type WorkerExit } from './stack-driver.js';
import { isAlive, type StackState, signalGroup, type WorkerState, writeStackState } from './stack-state.js';
import { Wait } from './wait-strategies.js';

type LocalState = Extract<StackState, { mode: 'local' }>;

const STOP_GRACE_MS = 10_000;

/**
 * Fault operations on a local stack started by `make up` in another process, through the state
 * file it wrote: workers are signalled by pid and restarted from their recorded command. Restarted
 * workers are detached from this process and recorded in the state file, so `make down` (or the
 * `up` process stopping) ends them too. Exit codes of processes we did not start are unknowable.
 */
export class AttachedStackDriver implements StackDriver {
  readonly kind = 'attached';

  constructor(
    private state: LocalState,
    private readonly stateFile?: string,
  ) {}

  #worker(pod: string): WorkerState {
    const worker = this.state.workers.find((candidate) => candidate.pod === pod);
    if (worker === undefined)
      throw new UnknownPodError(
        pod,
        this.state.workers.map((w) => w.pod),
      );
    return worker;
  }

  async workerPods(): Promise<string[]> {
    return this.state.workers.map((worker) => worker.pod);
  }

  async #waitGone(worker: WorkerState, timeoutMs: number): Promise<void> {
    await Wait.forCondition(`${worker.pod} (pid ${worker.pid}) to exit`, async () =>
      isAlive(worker.pid) ? 'still running' : true,
    )
      .withStartupTimeout(timeoutMs)
      .waitUntilReady();
  }

  async killWorker(pod: string): Promise<void> {
    const worker = this.#worker(pod);
    if (!isAlive(worker.pid)) throw new Error(`cannot kill ${pod}: it is not running`);
    signalGroup(worker.pid, 'SIGKILL');
    await this.#waitGone(worker, 5_000);
  }

  async stopAllWorkers(): Promise<void> {
    await Promise.all(
      this.state.workers.map(async (worker) => {
        if (!isAlive(worker.pid)) return;
        signalGroup(worker.pid, 'SIGTERM');
        try {
          await this.#waitGone(worker, STOP_GRACE_MS);
        } catch {
          signalGroup(worker.pid, 'SIGKILL');
          await this.#waitGone(worker, 5_000);
        }
      }),
    );
  }

  async startWorker(pod: string): Promise<void> {
    const worker = this.#worker(pod);
    if (isAlive(worker.pid)) throw new Error(`cannot start ${pod}: it is already running`);
    const discovererUrl = this.state.discovererUrl;
    const tokenFile = this.state.discovererTokenFile;
    await fetch(`${discovererUrl}/v1/unregister/${encodeURIComponent(pod)}`, {
      method: 'POST',
      headers:
        tokenFile === undefined ? {} : { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` },
      signal: AbortSignal.timeout(2_000),
    });
    appendFileSync(worker.logFile, `--- ${pod}: starting ${new Date().toISOString()} ---\n`);
    const fd = openSync(worker.logFile, 'a');
    let pid: number | undefined;
    try {
      const child = spawn(worker.command, [...worker.args], {
        cwd: worker.cwd,
        env: { PATH: process.env.PATH ?? '', ...worker.env },
        detached: true,
        stdio: ['ignore', fd, fd],
      });
      child.unref();
      pid = child.pid;
    } finally {
      closeSync(fd);
    }
    if (pid === undefined) throw new Error(`could not start ${pod}`);
    const restarted: WorkerState = { ...worker, pid };
    this.state = { ...this.state, workers: this.state.workers.map((w) => (w.pod === pod ? restarted : w)) };
    writeStackState(this.state, this.stateFile);
    await Wait.forCondition(
      `${pod} serving on 127.0.0.1:${worker.port} and listed by the discoverer`,
      async () => {
        if (!isAlive(pid)) throw new Error(`${pod} exited during start-up; see ${worker.logFile}`);
        const health = await checkGrpcHealth(`127.0.0.1:${worker.port}`, 1_000);
        if (health !== 'SERVING') return `health ${health}`;
        const listed = await listInstances(discovererUrl);
        return listed.some((instance) => instance.instance_id === pod) ? true : 'not listed yet';
      },
    )
      .withStartupTimeout(30_000)
      .waitUntilReady();
  }

  async startAllWorkers(): Promise<void> {
    for (const worker of this.state.workers) {
      if (!isAlive(worker.pid)) await this.startWorker(worker.pod);
    }
  }

  async waitForWorkerExit(pod: string, timeoutMs: number): Promise<WorkerExit> {
    await this.#waitGone(this.#worker(pod), timeoutMs);
    return { code: null, signal: null };
  }

  async workerLog(pod: string): Promise<string> {
    const { logFile } = this.#worker(pod);
    return existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
  }

  async logs(): Promise<ServiceLog[]> {
    return this.state.processes.map((process) => ({
      name: process.name,
      text: existsSync(process.logFile) ? readFileSync(process.logFile, 'utf8') : '',
    }));
  }
}
