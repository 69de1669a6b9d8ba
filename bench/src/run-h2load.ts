import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { type H2loadSummary, parseH2loadLog, parseH2loadOutput } from './h2load-output.js';

export interface H2loadOptions {
  readonly port: number;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** File holding the request body: the 5-byte gRPC prefix and the payload. */
  readonly bodyFile: string;
  readonly clients: number;
  readonly streams: number;
  /** Seconds, whole or not (h2load is given milliseconds). */
  readonly durationSeconds: number;
  /** h2load leaves these seconds out of its figures (timing-based mode only). */
  readonly warmupSeconds?: number;
  /** Write per-request latencies here and return them. */
  readonly logFile?: string;
}

export interface H2loadResult {
  readonly summary: H2loadSummary;
  /** Per-request durations in µs of the 200 answers, with `logFile`. */
  readonly latenciesMicros: number[] | undefined;
}

/** h2load's DURATION is a whole number with a unit. */
function milliseconds(seconds: number): string {
  return `${Math.round(seconds * 1000)}ms`;
}

/** The h2load command line for one run (exported for the test and for the report). */
export function h2loadArgs(options: H2loadOptions): string[] {
  const args = [
    '-c',
    String(options.clients),
    '-m',
    String(options.streams),
    '-t',
    '1',
    '-D',
    milliseconds(options.durationSeconds),
  ];
  if (options.warmupSeconds !== undefined) args.push(`--warm-up-time=${milliseconds(options.warmupSeconds)}`);
  args.push('-d', options.bodyFile, '-H', 'content-type: application/grpc', '-H', 'te: trailers');
  for (const [name, value] of Object.entries(options.headers)) args.push('-H', `${name}: ${value}`);
  if (options.logFile !== undefined) args.push(`--log-file=${options.logFile}`);
  args.push(`http://127.0.0.1:${options.port}${options.path}`);
  return args;
}

/** Runs h2load to completion (killed if it overruns its duration by 20 s) and parses its summary. */
export async function runH2load(options: H2loadOptions): Promise<H2loadResult> {
  const limitMs = (options.durationSeconds + (options.warmupSeconds ?? 0) + 20) * 1000;
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('h2load', h2loadArgs(options), { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run h2load: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(text);
      else reject(new Error(`h2load exited with code ${code} signal ${signal}:\n${text.slice(-2000)}`));
    });
  });
  const summary = parseH2loadOutput(output);
  let latenciesMicros: number[] | undefined;
  if (options.logFile !== undefined) {
    latenciesMicros = parseH2loadLog(await readFile(options.logFile, 'utf8'));
    await rm(options.logFile, { force: true });
  }
  return { summary, latenciesMicros };
}
