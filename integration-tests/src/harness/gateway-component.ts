import { serverEntry } from './repo-paths.js';
import { StackComponent } from './stack-component.js';
import { Wait } from './wait-strategies.js';

/** Any method no route matches: the gateway answers it itself with UNIMPLEMENTED (its readiness probe). */
export const UNROUTED_METHOD = '/stickygw.harness.Probe/Ready';
const UNIMPLEMENTED = 12;

/**
 * The node flags the gateway is run with, as its image does (gateway/Dockerfile): V8's memory
 * reducer would shrink the young generation in every quiet spell, and the next burst of calls would
 * cost up to twice the CPU per call until the heap has grown back (README, Performance).
 */
const GATEWAY_NODE_FLAGS = ['--no-memory-reducer'];

interface GatewayComponentOptions {
  /** The component and process name (default `gateway`). */
  readonly name?: string;
  readonly configPath: string;
  /** `JWT_SECRET`; leave it out when `env` gives `JWT_SECRET_FILE` instead. */
  readonly jwtSecret?: string;
  readonly retryCount: number;
  readonly retryTimeoutMs: number;
  readonly logLevel: string;
  /**
   * More gateway environment (MAX_MESSAGE_BYTES, SHUTDOWN_GRACE_MS, ACCESS_LOG, ...); a function is
   * read at each start (values that name ports picked when other components start).
   */
  readonly env?: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
  /** Node flags before the entry point (e.g. `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  readonly fixedPort?: number;
  /** Without it the output is kept in memory. */
  readonly logFile?: string;
  readonly cwd?: string;
  readonly startupTimeoutMs: number;
  readonly onProgress?: (line: string) => void;
}

/**
 * `node gateway/dist/main.js` on loopback with the runtime contract's environment (REFERENCE.md 6.1),
 * ready once an unrouted call is answered with UNIMPLEMENTED: the gateway part of every stack, and
 * the gateway the bench measures.
 */
export function gatewayComponent(options: GatewayComponentOptions): StackComponent {
  const name = options.name ?? 'gateway';
  return new StackComponent({
    name,
    ...(options.fixedPort === undefined ? {} : { fixedPort: options.fixedPort }),
    spec: (port) => ({
      name,
      command: process.execPath,
      args: [...GATEWAY_NODE_FLAGS, ...(options.nodeArgs ?? []), serverEntry('gateway')],
      env: {
        SERVICE_PORT_GRPC: String(port),
        CONFIG_PATH: options.configPath,
        ...(options.jwtSecret === undefined ? {} : { JWT_SECRET: options.jwtSecret }),
        RETRY_COUNT: String(options.retryCount),
        RETRY_TIMEOUT_MS: String(options.retryTimeoutMs),
        LISTEN_HOST: '127.0.0.1',
        LOG_LEVEL: options.logLevel,
        // Off unless asked for: stacks run side by side, and the default 9901 is one port for all.
        ADMIN_PORT: '0',
        ...(typeof options.env === 'function' ? options.env() : options.env),
      },
      ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    }),
    ready: (port) => Wait.forGrpcStatus(`127.0.0.1:${port}`, UNROUTED_METHOD, UNIMPLEMENTED),
    startupTimeoutMs: options.startupTimeoutMs,
    onProgress: options.onProgress ?? (() => {}),
  });
}
