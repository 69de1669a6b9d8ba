/**
 * Runs the conformance cases against any h2c (prior knowledge) server and reports one line per case.
 *
 *   npx tsx gateway/src/h2/conformance/run-conformance.ts --host 127.0.0.1 --port 8080 [--filter 6.5]
 *
 * Options: --filter (comma-separated id prefixes: `6.5`, `http2/6.5.3`, `hpack`, `generic/5/14`),
 * --timeout MS (per expectation, default 2000), --concurrency N (default 8), --h2spec-lenient
 * (h2spec's rule for unexpected error codes, see ConformanceTarget.strictCodes), --json.
 * Exit code 0 when every selected case passed and the server still answers a request afterwards.
 */
import { pathToFileURL } from 'node:url';
import { Flag, FrameType, headersFrame, hpackBlock } from '../test-support/raw-frames.js';
import { ALL_CASES, type ConformanceCase, H2SPEC_CASE_COUNT } from './cases.js';
import {
  type ConformanceTarget,
  DEFAULT_TIMEOUT_MS,
  describeFrame,
  SkipCase,
  withConnection,
} from './raw-frames.js';

export interface CaseResult {
  readonly id: string;
  readonly title: string;
  readonly passed: boolean;
  /** The case could not be judged against this server (h2spec's "skipped"); passed is false. */
  readonly skipped?: boolean;
  readonly error?: string;
  readonly ms: number;
}

export interface RunOptions {
  /** Id prefixes (see matchesFilter); all cases when empty or absent. */
  readonly filter?: string | readonly string[];
  /** Cases run at once, each on its own connection(s). Default 8. */
  readonly concurrency?: number;
  /** Per expectation; default 2,000 ms (h2spec's default). */
  readonly timeoutMs?: number;
  /** Default true; see ConformanceTarget.strictCodes. */
  readonly strictCodes?: boolean;
  /** Called as each case finishes (in completion order). */
  readonly onResult?: (result: CaseResult) => void;
}

/**
 * `6.5` selects every case whose section is 6.5 or below it (6.5.2, 6.5.3) in any spec;
 * `http2/6.5` only in http2; `http2/6.5/1` one case; `hpack` a whole spec.
 */
export function matchesFilter(id: string, filter: string): boolean {
  const f = filter.trim().replace(/\/$/, '');
  if (f === '') return true;
  const bare = id.slice(id.indexOf('/') + 1);
  return [id, bare].some(
    (candidate) => candidate === f || candidate.startsWith(`${f}/`) || candidate.startsWith(`${f}.`),
  );
}

export function selectCases(filter?: string | readonly string[]): ConformanceCase[] {
  const filters = (typeof filter === 'string' ? filter.split(',') : (filter ?? [])).filter(
    (f) => f.trim() !== '',
  );
  if (filters.length === 0) return [...ALL_CASES];
  return ALL_CASES.filter((c) => filters.some((f) => matchesFilter(c.id, f)));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function runOne(c: ConformanceCase, target: ConformanceTarget): Promise<CaseResult> {
  const start = performance.now();
  try {
    await c.run(target);
    return { id: c.id, title: c.title, passed: true, ms: Math.round(performance.now() - start) };
  } catch (err) {
    const ms = Math.round(performance.now() - start);
    if (err instanceof SkipCase)
      return { id: c.id, title: c.title, passed: false, skipped: true, error: err.message, ms };
    return { id: c.id, title: c.title, passed: false, error: message(err), ms };
  }
}

/** Runs the selected cases against `target`; results come back in the suite's order. */
export async function runConformance(
  target: { readonly host: string; readonly port: number },
  options: RunOptions = {},
): Promise<CaseResult[]> {
  const selected = selectCases(options.filter);
  const caseTarget: ConformanceTarget = {
    host: target.host,
    port: target.port,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    strictCodes: options.strictCodes ?? true,
  };
  const results = new Array<CaseResult>(selected.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const index = next++;
      const c = selected[index];
      if (c === undefined) return;
      const result = await runOne(c, caseTarget);
      results[index] = result;
      options.onResult?.(result);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 8, selected.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

/**
 * After the suite: does the server still answer a plain request on a fresh connection with a
 * complete response? Resolves with undefined if so, else with what went wrong.
 */
export async function checkStillServing(
  target: { readonly host: string; readonly port: number },
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<string | undefined> {
  try {
    await withConnection({ ...target, timeoutMs }, async (conn) => {
      await conn.handshake();
      const authority = target.port === 80 ? target.host : `${target.host}:${target.port}`;
      const block = hpackBlock([
        [':method', 'GET'],
        [':scheme', 'http'],
        [':path', '/'],
        [':authority', authority],
      ]);
      conn.send(headersFrame(1, block, { endStream: true }));
      let sawHeaders = false;
      await conn.waitFor((ev) => {
        if (ev.kind !== 'frame' || ev.frame.streamId !== 1) return undefined;
        const f = ev.frame;
        if (f.type === FrameType.RST_STREAM) return { fail: describeFrame(f) };
        if (f.type === FrameType.HEADERS) sawHeaders = true;
        const ended =
          (f.type === FrameType.HEADERS || f.type === FrameType.DATA) && (f.flags & Flag.END_STREAM) !== 0;
        return ended && sawHeaders ? { pass: undefined } : undefined;
      }, 'a complete response to GET / on stream 1');
    });
    return undefined;
  } catch (err) {
    return message(err);
  }
}

export interface Summary {
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

export function summarize(results: readonly CaseResult[]): Summary {
  const passed = results.filter((r) => r.passed).length;
  const skipped = results.filter((r) => r.skipped).length;
  return { total: results.length, passed, skipped, failed: results.length - passed - skipped };
}

export function formatResult(r: CaseResult): string {
  const mark = r.passed ? 'PASS' : r.skipped ? 'SKIP' : 'FAIL';
  const line = `${mark} ${r.id.padEnd(16)} ${r.title} (${r.ms} ms)`;
  return r.error === undefined ? line : `${line}\n       ${r.error}`;
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

interface CliArgs {
  host: string;
  port: number;
  filter: string[];
  timeoutMs: number;
  concurrency: number;
  strictCodes: boolean;
  json: boolean;
}

const USAGE =
  'usage: run-conformance.ts --host HOST --port PORT [--filter PREFIX[,PREFIX]] [--timeout MS] ' +
  '[--concurrency N] [--h2spec-lenient] [--json]';

function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = {
    host: '127.0.0.1',
    port: 0,
    filter: [],
    timeoutMs: DEFAULT_TIMEOUT_MS,
    concurrency: 8,
    strictCodes: true,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const int = (): number => {
      const raw = value();
      const n = Number(raw);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: not a positive integer: ${raw}`);
      return n;
    };
    switch (flag) {
      case '--host':
      case '-h':
        args.host = value();
        break;
      case '--port':
      case '-p':
        args.port = int();
        break;
      case '--filter':
        args.filter.push(...value().split(','));
        break;
      case '--timeout':
        args.timeoutMs = int();
        break;
      case '--concurrency':
        args.concurrency = int();
        break;
      case '--h2spec-lenient':
        args.strictCodes = false;
        break;
      case '--json':
        args.json = true;
        break;
      case '--help':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        // h2spec style: bare section arguments are filters.
        if (flag !== undefined && !flag.startsWith('-')) args.filter.push(flag);
        else throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  if (args.port === 0) throw new Error(`--port is required\n${USAGE}`);
  return args;
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  const target = { host: args.host, port: args.port };
  const selected = selectCases(args.filter);
  if (selected.length === 0) throw new Error(`no case matches ${args.filter.join(',')}`);
  if (!args.json) console.log(`h2 conformance: ${selected.length} case(s) against ${args.host}:${args.port}`);
  const results = await runConformance(target, {
    filter: args.filter,
    concurrency: args.concurrency,
    timeoutMs: args.timeoutMs,
    strictCodes: args.strictCodes,
  });
  const serving = await checkStillServing(target, args.timeoutMs);
  const summary = summarize(results);
  if (args.json) {
    console.log(
      JSON.stringify(
        { target, summary, stillServing: serving === undefined, servingError: serving, results },
        null,
        2,
      ),
    );
  } else {
    for (const r of results) console.log(formatResult(r));
    const ofAll = selected.length === ALL_CASES.length ? `${H2SPEC_CASE_COUNT}` : `${summary.total}`;
    const extra =
      summary.skipped > 0
        ? ` (${summary.skipped} skipped, ${summary.failed} failed)`
        : ` (${summary.failed} failed)`;
    console.log(`\n${summary.passed}/${ofAll} passed${extra}`);
    console.log(
      serving === undefined ? 'target still serving: yes' : `target still serving: NO (${serving})`,
    );
  }
  return summary.passed === summary.total && serving === undefined ? 0 : 1;
}

const invokedAs = process.argv[1];
if (invokedAs !== undefined && import.meta.url === pathToFileURL(invokedAs).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(message(err));
      process.exit(2);
    },
  );
}
