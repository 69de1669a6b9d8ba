import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { getFreePort, ManagedProcess } from '@stickygw/testkit';
import { echoClient } from './echo-service.js';

/** examples/dist/, whether this module runs compiled (dist/shared/) or from source (vitest). */
const DIST = (() => {
  const here = fileURLToPath(new URL('../', import.meta.url));
  return here.endsWith('/dist/') ? here : join(here, 'dist/');
})();

/** The compiled entry point of an example file, e.g. `api-key-auth/main`. */
export function compiledPath(module: string): string {
  return join(DIST, `${module}.js`);
}

/** The stock gateway's entry point, gateway/dist/main.js (the examples' package builds it first). */
export const STOCK_GATEWAY = join(DIST, '../../gateway/dist/main.js');

/** True when `moduleUrl` (a demo's `import.meta.url`) is the process's main module (`node demo.js`). */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === moduleUrl;
}

/**
 * The processes of one demo: echo backends, the example's gateway, files in a temporary directory.
 * `close()` stops every process it started and removes the directory.
 */
export class DemoStack {
  readonly dir = mkdtempSync(join(tmpdir(), 'stickygw-example-'));
  readonly #processes: ManagedProcess[] = [];
  readonly #clients: grpc.Client[] = [];

  /** Writes `name` in the stack's directory; returns its path. */
  file(name: string, text: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, text);
    return path;
  }

  /** An echo backend process answering with `name`; resolves with its address. */
  async backend(
    name: string,
    options: { readonly service?: string; readonly host?: string; readonly port?: number } = {},
  ) {
    const backend = this.#track(
      ManagedProcess.start({
        name,
        command: process.execPath,
        args: [compiledPath('shared/echo-backend-main')],
        env: {
          BACKEND_NAME: name,
          HOST: options.host ?? '127.0.0.1',
          PORT: String(options.port ?? 0),
          ...(options.service === undefined ? {} : { SERVICE: options.service }),
        },
      }),
    );
    return `${options.host ?? '127.0.0.1'}:${await backend.listeningPort(20_000)}`;
  }

  /**
   * A gateway process from `entryPoint` (an example's compiled `main.js`, or the stock gateway's)
   * with `yaml` as its CONFIG_PATH; resolves with its address once it listens.
   */
  async gateway(
    entryPoint: string,
    yaml: string,
    env: Readonly<Record<string, string>> = {},
  ): Promise<{ address: string; process: ManagedProcess }> {
    const port = await getFreePort();
    const gateway = this.#track(
      ManagedProcess.start({
        name: 'gateway',
        command: process.execPath,
        args: [entryPoint],
        cwd: this.dir,
        env: {
          SERVICE_PORT_GRPC: String(port),
          CONFIG_PATH: this.file('gateway.yaml', yaml),
          RETRY_COUNT: '3',
          RETRY_TIMEOUT_MS: '1000',
          ACCESS_LOG: 'false',
          // The stock gateway's admin listener would claim 9901 in every demo at once.
          ADMIN_PORT: '0',
          ...env,
        },
      }),
    );
    await gateway.waitForJsonLine((line) => line.msg === 'listening', {
      description: 'the gateway listening',
      timeoutMs: 20_000,
    });
    return { address: `127.0.0.1:${port}`, process: gateway };
  }

  /** A grpc-js client of `address`, closed with the stack. */
  client(address: string): grpc.Client {
    const client = echoClient(address);
    this.#clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.#clients) client.close();
    await Promise.all(this.#processes.map((managed) => managed.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  #track(managed: ManagedProcess): ManagedProcess {
    this.#processes.push(managed);
    return managed;
  }
}

/** Counts of each distinct value. */
export function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
