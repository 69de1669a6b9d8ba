import { type ExitStatus, getFreePort, ManagedProcess, type ProcessSpec } from '@stickygw/testkit';
import type { WaitStrategy } from './wait-strategies.js';

/** A free port can be taken by someone else between probing and binding; then another is tried. */
const PORT_ATTEMPTS = 3;
/** How long a component may take to stop gracefully before it is killed. */
const STOP_GRACE_MS = 3_000;

interface StackComponentOptions {
  readonly name: string;
  /** The port of the first start; unset: a free one. */
  readonly fixedPort?: number;
  readonly spec: (port: number) => ProcessSpec;
  readonly ready: (port: number) => WaitStrategy;
  readonly startupTimeoutMs: number;
  readonly onProgress: (line: string) => void;
}

/**
 * One restartable process of a stack. `port` is fixed once chosen (a restart reuses it unless told
 * otherwise), so dependants configured with the address keep working across restarts.
 */
export class StackComponent {
  process: ManagedProcess | undefined;
  port: number;

  constructor(private readonly options: StackComponentOptions) {
    this.port = options.fixedPort ?? 0;
  }

  get name(): string {
    return this.options.name;
  }

  get running(): boolean {
    return this.process?.running ?? false;
  }

  /** The spec the process is (or would be) started with on its current port. */
  spec(): ProcessSpec {
    return this.options.spec(this.port);
  }

  /** Starts on `port` (default: the previous port, or a free one the first time) and waits until ready. */
  async start(port?: number): Promise<ManagedProcess> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const fixed = port ?? (this.port === 0 ? undefined : this.port);
    for (let attempt = 1; ; attempt++) {
      const chosen = fixed ?? (await getFreePort());
      this.port = chosen;
      const started = ManagedProcess.start(this.options.spec(chosen));
      this.process = started;
      try {
        await this.options
          .ready(chosen)
          .withStartupTimeout(this.options.startupTimeoutMs)
          .waitUntilReady(started);
        return started;
      } catch (error) {
        await started.kill();
        const portTaken = /EADDRINUSE|address already in use/i.test(started.output());
        if (fixed === undefined && portTaken && attempt < PORT_ATTEMPTS) {
          this.options.onProgress(`  ${this.name}: port ${chosen} was taken, trying another`);
          continue;
        }
        if (portTaken) throw new Error(`${this.name}: port ${chosen} is already in use`, { cause: error });
        throw error;
      }
    }
  }

  /** SIGKILL (`docker kill`), resolved once the process is reaped. */
  async kill(): Promise<ExitStatus | undefined> {
    return this.process?.kill();
  }

  async stop(graceMs = STOP_GRACE_MS): Promise<ExitStatus | undefined> {
    return this.process?.stop(graceMs);
  }

  signal(signal: NodeJS.Signals): void {
    this.process?.signal(signal);
  }

  log(): string {
    return this.process?.output() ?? '';
  }
}
