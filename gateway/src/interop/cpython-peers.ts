import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@stickygw/testkit';
import { PROBE_PROTO_PATH } from '../test-support/probe-backend.js';

/**
 * gRPC C-core peers for interop tests: the Debian python3-grpcio build, driven from Python scripts
 * next to this file (grpc_server.py, grpc_client.py). The probe service's Python code is generated
 * at test time with python3-grpc-tools into a temporary directory.
 *
 * `/usr/bin/python3` on purpose: another interpreter on PATH may lack the Debian modules.
 */
const PYTHON = '/usr/bin/python3';

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVER_SCRIPT = join(HERE, 'grpc_server.py');
const CLIENT_SCRIPT = join(HERE, 'grpc_client.py');

/** Every Python process started here and not yet exited, so a test can never leak one. */
const live = new Set<ChildProcess>();

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Kills every Python peer still running (afterEach/afterAll) and waits for them to exit. */
export async function stopPythonPeers(): Promise<void> {
  await Promise.all([...live].map((child) => killAndWait(child)));
}

function killAndWait(child: ChildProcess, graceMs = 0): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(hard);
      resolve();
    });
    if (graceMs > 0) child.kill('SIGTERM');
  });
}

const REQUIRED_MODULES: readonly (readonly [module: string, debianPackage: string])[] = [
  ['grpc', 'python3-grpcio'],
  ['grpc_tools.protoc', 'python3-grpc-tools'],
  ['google.protobuf', 'python3-protobuf'],
];

/**
 * Throws (never skips) when the C-core peers cannot run, naming the Debian package to install.
 */
export function requirePythonGrpc(): void {
  const probe = REQUIRED_MODULES.map(
    ([module]) => `try:\n  import ${module}\nexcept Exception:\n  print(${JSON.stringify(module)})\n`,
  ).join('');
  const result = spawnSync(PYTHON, ['-c', probe], { encoding: 'utf8', timeout: 20_000 });
  if (result.error !== undefined) {
    throw new Error(
      `cannot run ${PYTHON} (${result.error.message}): install the Debian packages python3, python3-grpcio, python3-grpc-tools`,
    );
  }
  const missing = result.stdout.split('\n').filter((line) => line !== '');
  if (result.status !== 0 || missing.length > 0) {
    const packages = REQUIRED_MODULES.filter(([module]) => missing.includes(module)).map(([, pkg]) => pkg);
    throw new Error(
      `${PYTHON} cannot import ${missing.join(', ') || '(its check failed)'}: install the Debian package(s) ` +
        `${packages.join(' ') || 'python3-grpcio python3-grpc-tools'} (apt-get install ...)\n${result.stderr}`,
    );
  }
}

/** Generates probe_pb2.py and probe_pb2_grpc.py into a new temporary directory and returns it. */
export function compileProbeProto(): string {
  const dir = mkdtempSync(join(tmpdir(), 'probe-py-'));
  const result = spawnSync(
    PYTHON,
    [
      '-m',
      'grpc_tools.protoc',
      `-I${dirname(PROBE_PROTO_PATH)}`,
      `--python_out=${dir}`,
      `--grpc_python_out=${dir}`,
      basename(PROBE_PROTO_PATH),
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (result.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `${PYTHON} -m grpc_tools.protoc failed (Debian package python3-grpc-tools): ` +
        `${result.error?.message ?? ''}${result.stderr}`,
    );
  }
  return dir;
}

export function removeGenerated(dir: string | undefined): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}

/** The payload of `size` bytes the Python scripts generate for `payloadSize`: 0, 1, ..., 250, 0, ... */
export function pattern(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = i % 251;
  return out;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Metadata as the scripts print it: `[key, value]` pairs in order, `-bin` values base64. */
export type MetadataPairs = readonly (readonly [string, string])[];

/** Every value of `key` in `pairs`. */
export function values(pairs: MetadataPairs, key: string): string[] {
  return pairs.filter(([k]) => k === key).map(([, v]) => v);
}

export function base64(bytes: readonly number[]): string {
  return Buffer.from(bytes).toString('base64');
}

// ---------------------------------------------------------------- server

export type ServerEvent =
  | { readonly event: 'listening'; readonly port: number }
  | {
      readonly event: 'call';
      readonly method: string;
      readonly metadata: MetadataPairs;
      /** Seconds left to the call's deadline when it arrived; null without a deadline. */
      readonly timeRemaining: number | null;
    }
  | {
      readonly event: 'end';
      readonly method: string;
      /** The call's `x-echo-id` metadata, if it had one. */
      readonly id: string | null;
      /** The call ended without its handler finishing: cancelled by the peer, or its deadline. */
      readonly cancelled: boolean;
      readonly deadline: boolean;
    };

export type CallEvent = Extract<ServerEvent, { event: 'call' }>;
export type EndEvent = Extract<ServerEvent, { event: 'end' }>;

export interface PythonServerOptions {
  /** grpc.max_receive_message_length (default 64 MiB). */
  readonly maxReceiveBytes?: number;
  /** grpc.max_concurrent_streams: SETTINGS_MAX_CONCURRENT_STREAMS it announces (default: none). */
  readonly maxConcurrentStreams?: number;
}

/**
 * The probe service on gRPC C-core (grpc_server.py) on 127.0.0.1, on a port the kernel picks (no
 * race with another test for a "free" port). Its events (calls with their metadata and deadline,
 * and how each call ended) arrive in `events`.
 */
export class PythonGrpcServer {
  readonly events: ServerEvent[] = [];
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly name: string,
  ) {}

  static async start(
    genDir: string,
    name: string,
    options: PythonServerOptions = {},
  ): Promise<PythonGrpcServer> {
    const child = spawn(PYTHON, ['-u', SERVER_SCRIPT, genDir, name, JSON.stringify(options)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    track(child);
    const server = new PythonGrpcServer(child, name);
    child.stderr?.on('data', (chunk: Buffer) => {
      server.stderr = (server.stderr + chunk.toString()).slice(-4000);
    });
    const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
    lines.on('line', (line) => {
      try {
        server.events.push(JSON.parse(line) as ServerEvent);
      } catch {
        server.stderr += `unparsed stdout line: ${line}\n`;
      }
    });
    try {
      await waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${server.stderr}`);
          return server.port > 0;
        },
        { description: `the Python gRPC server ${name} to listen`, timeoutMs: 15_000, intervalMs: 20 },
      );
    } catch (error) {
      await killAndWait(child);
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${server.stderr}`);
    }
    return server;
  }

  get port(): number {
    const listening = this.events.find((e) => e.event === 'listening');
    return listening?.event === 'listening' ? listening.port : 0;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get calls(): CallEvent[] {
    return this.events.filter((e): e is CallEvent => e.event === 'call');
  }

  get ends(): EndEvent[] {
    return this.events.filter((e): e is EndEvent => e.event === 'end');
  }

  /** Output on stderr so far (tracebacks of failing handlers). */
  get errors(): string {
    return this.stderr;
  }

  /** Waits for the first event from `fromIndex` on that satisfies `match`. */
  waitForEvent<E extends ServerEvent>(
    match: (event: ServerEvent) => event is E,
    description: string,
    fromIndex = 0,
    timeoutMs = 10_000,
  ): Promise<E> {
    return waitFor(() => this.events.slice(fromIndex).find(match), {
      description: `${description} (Python server ${this.name})`,
      timeoutMs,
      intervalMs: 20,
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin?.end('stop\n');
    }
    await killAndWait(this.child, 3000);
  }
}

// ---------------------------------------------------------------- client

type CallKind = 'unary' | 'server_stream' | 'client_stream' | 'bidi';

/** ProbeRequest fields (snake_case as in probe.proto); `payloadSize` sends `pattern(payloadSize)`. */
interface PyRequest {
  readonly text?: string;
  /** base64 */
  readonly payload?: string;
  readonly payloadSize?: number;
  readonly count?: number;
  readonly interval_ms?: number;
  readonly fail_code?: number;
  readonly fail_message?: string;
  readonly headers_first?: boolean;
  readonly hold?: boolean;
  readonly delay_ms?: number;
}

export interface PyCallSpec {
  readonly kind: CallKind;
  readonly requests?: readonly PyRequest[];
  readonly metadata?: MetadataPairs;
  /** Seconds. */
  readonly timeout?: number;
  /** Streaming responses: the client cancels once this many replies arrived. */
  readonly cancelAfterMessages?: number;
  /** Unary: the client reports `started`, then cancels when `PythonClientRun.cancel()` is called. */
  readonly cancelOnStdin?: boolean;
  /** Unary: this many concurrent calls on the one channel; `codes` counts their statuses. */
  readonly repeat?: number;
  /** Request messages gzip-compressed (`x-compress: gzip` metadata asks the server for the same). */
  readonly compression?: 'gzip';
}

interface PyReply {
  readonly text: string;
  readonly payloadSize: number;
  readonly payloadSha256: string;
  readonly backend: string;
  readonly index: number;
  readonly received: number;
}

export interface PyCallResult {
  /** grpc.StatusCode name: OK, CANCELLED, DEADLINE_EXCEEDED... */
  readonly code: string;
  readonly codeValue: number;
  readonly details: string;
  readonly initialMetadata: MetadataPairs;
  readonly trailingMetadata: MetadataPairs;
  readonly replies: readonly PyReply[];
  /** Status names and how many calls ended with each (one call unless `repeat`). */
  readonly codes: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
}

/** One run of grpc_client.py: a single call on its own channel (one HTTP/2 connection). */
export class PythonClientRun {
  readonly result: Promise<PyCallResult>;
  /** Resolves once the client printed `started` (with `cancelOnStdin`). */
  readonly started: Promise<void>;

  constructor(
    private readonly child: ChildProcess,
    timeoutMs: number,
  ) {
    let stdout = '';
    let stderr = '';
    let onStarted: () => void = () => undefined;
    this.started = new Promise((resolve) => {
      onStarted = resolve;
    });
    const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
    lines.on('line', (line) => {
      stdout += `${line}\n`;
      if (line.includes('"event": "started"')) onStarted();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    this.result = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the Python gRPC client did not finish within ${timeoutMs} ms\n${stdout}${stderr}`));
      }, timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${PYTHON}: ${error.message}`));
      });
      // 'close', not 'exit': every stdout line has been read then.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        const last = stdout
          .split('\n')
          .filter((line) => line.includes('"event": "result"'))
          .at(-1);
        if (code !== 0 || last === undefined) {
          reject(new Error(`the Python gRPC client exited with ${code ?? signal}:\n${stdout}${stderr}`));
          return;
        }
        resolve(JSON.parse(last) as PyCallResult);
      });
    });
    // Whoever awaits only `started` must not leave an unhandled rejection behind.
    this.result.catch(() => undefined);
  }

  /** With `cancelOnStdin`: the client cancels its call now. */
  cancel(): void {
    this.child.stdin?.end('cancel\n');
  }
}

/** Starts grpc_client.py for one call towards `target` (host:port). */
export function startPythonClient(
  genDir: string,
  target: string,
  spec: PyCallSpec,
  timeoutMs = 20_000,
): PythonClientRun {
  const child = spawn(PYTHON, ['-u', CLIENT_SCRIPT, genDir, target, JSON.stringify(spec)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  track(child);
  return new PythonClientRun(child, timeoutMs);
}

/** One call by the C-core client; resolves with what it saw. */
export function pythonCall(
  genDir: string,
  target: string,
  spec: PyCallSpec,
  timeoutMs = 20_000,
): Promise<PyCallResult> {
  return startPythonClient(genDir, target, spec, timeoutMs).result;
}
