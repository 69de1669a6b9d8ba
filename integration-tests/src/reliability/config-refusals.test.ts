import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort, ManagedProcess, referenceGatewayYaml } from '@stickygw/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { serverEntry } from '../harness/repo-paths.js';
import { Random } from './soak/random.js';

/**
 * Hostile configuration (issue 6): generated documents and environments, each broken in one or two
 * places the schema covers, given to the real process. Each must exit 1 within a few seconds with
 * `failed to load configuration` and a problem line naming every broken field or variable, and must
 * never have started listening (nothing half-configured). Seeded: a failure reproduces.
 */

const SEED = 0x6a7e_c0f6;
const DOCUMENTS = 16;
const dir = mkdtempSync(join(tmpdir(), 'stickygw-config-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Doc = Record<string, unknown>;

function validDocument(): Doc {
  return {
    ...referenceGatewayYaml({
      authAddress: '127.0.0.1:5001',
      discovererUrl: 'http://127.0.0.1:8080',
      discovererIntervalMs: 5000,
    }).document(),
  };
}

/** One way to break a document: what the message must name, and the change. */
interface Breakage {
  readonly names: string;
  readonly apply: (doc: Doc) => void;
}

/** Sets `value` at `path` (keys and indexes) in `doc`; throws if an earlier breakage removed the way. */
function setAt(doc: Doc, path: ReadonlyArray<string | number>, value: unknown): void {
  let node = doc as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) throw new Error(`no ${String(key)} to edit`);
    node = next as Record<string | number, unknown>;
  }
  node[path.at(-1) as string | number] = value;
}

/** Each value in `values` at `path`, as breakages naming `names`. */
function each(names: string, path: ReadonlyArray<string | number>, values: readonly unknown[]): Breakage[] {
  return values.map((value) => ({ names, apply: (doc: Doc) => setAt(doc, path, value) }));
}

const BREAKAGES: readonly Breakage[] = [
  ...each('action', ['default', 'action'], ['maybe', 42, []]),
  ...each('default', ['default'], [{ action: 'use_cluster' }]),
  ...each('routes', ['routes'], [42, 'routes', { a: 1 }]),
  ...each('prefix', ['routes', 0, 'prefix'], ['', '*', 42, null]),
  ...each('prefix', ['routes', 1, 'prefix'], ['/my_service.MyServiceAPI/Login']),
  ...each('cluster', ['routes', 0, 'cluster'], ['nope', 42]),
  ...each('authorization', ['routes', 1, 'authorization'], ['maybe', 7]),
  ...each('balancer', ['routes', 1, 'balancer', 'type'], ['random', 5]),
  ...each('header', ['routes', 1, 'balancer', 'header'], ['', '   ', null]),
  ...each('clusters', ['clusters'], [[], 'x', 42]),
  ...each('type', ['clusters', 'myauth', 'type'], ['ftp', 3]),
  ...each('address', ['clusters', 'myauth', 'address'], ['', null, 99]),
  ...each('discoverer_url', ['clusters', 'my_service', 'discoverer_url'], ['', null]),
  ...each(
    'discoverer_interval_ms',
    ['clusters', 'my_service', 'discoverer_interval_ms'],
    [0, -1, 'soon', 1.5],
  ),
];

const BAD_ENV: ReadonlyArray<readonly [string, string]> = [
  ['SERVICE_PORT_GRPC', 'x'],
  ['SERVICE_PORT_GRPC', '70000'],
  ['CONFIG_PATH', ' '],
  ['JWT_SECRET', ''],
  ['RETRY_COUNT', '0'],
  ['RETRY_COUNT', 'three'],
  ['RETRY_TIMEOUT_MS', '-5'],
  ['MAX_MESSAGE_BYTES', '0'],
  ['MAX_REPLAY_BUFFER_BYTES', '-1'],
  ['SHUTDOWN_GRACE_MS', 'soon'],
  ['HANDSHAKE_TIMEOUT_MS', '0'],
  ['IDLE_TIMEOUT_MS', '-1'],
  ['LISTEN_HOST', 'not a host'],
  ['LOG_LEVEL', 'loud'],
  ['ACCESS_LOG', 'maybe'],
];

interface Refusal {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

async function runGateway(env: Record<string, string>): Promise<Refusal> {
  const started = performance.now();
  const gateway = ManagedProcess.start({
    name: 'gateway',
    command: process.execPath,
    args: [serverEntry('gateway')],
    env,
  });
  const timer = setTimeout(() => gateway.signal('SIGKILL'), 20_000);
  const { code } = await gateway.exited;
  clearTimeout(timer);
  return { code, stdout: gateway.stdout(), stderr: gateway.stderr(), ms: performance.now() - started };
}

async function baseEnv(configPath: string): Promise<Record<string, string>> {
  return {
    SERVICE_PORT_GRPC: String(await getFreePort()),
    CONFIG_PATH: configPath,
    JWT_SECRET: 'config-refusals',
    RETRY_COUNT: '3',
    RETRY_TIMEOUT_MS: '1000',
    LOG_LEVEL: 'info',
  };
}

function expectRefused(result: Refusal, names: readonly string[]): void {
  expect(result.code, result.stderr).toBe(1);
  // Promptly, not after a connection attempt: a refusal is ~0.7 s alone, far more on a loaded CI.
  expect(result.ms).toBeLessThan(15_000);
  expect(result.stdout).not.toContain('"msg":"listening"');
  const [first, ...problems] = result.stderr.trimEnd().split('\n');
  expect(first).toBe('failed to load configuration');
  expect(problems.length).toBeGreaterThan(0);
  for (const name of names) {
    expect(
      problems.some((line) => line.includes(name)),
      `no problem line names ${name}:\n${result.stderr}`,
    ).toBe(true);
  }
}

/** Runs `jobs` a few at a time: each is a node process start on a shared 2-core machine. */
async function inBatches<T>(jobs: Array<() => Promise<T>>, size = 4): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < jobs.length; i += size)
    results.push(...(await Promise.all(jobs.slice(i, i + size).map((job) => job()))));
  return results;
}

describe('hostile configuration', () => {
  it(`${DOCUMENTS} generated YAML documents, each broken in one or two places, are refused naming each field`, async () => {
    const random = new Random(SEED);
    const jobs = Array.from({ length: DOCUMENTS }, (_, i) => async () => {
      const doc = validDocument();
      const breakages = [random.pick(BREAKAGES)];
      if (random.next() < 0.4) breakages.push(random.pick(BREAKAGES));
      const names: string[] = [];
      for (const breakage of breakages) {
        try {
          breakage.apply(doc);
          names.push(breakage.names);
        } catch {
          // The first breakage replaced the part the second one edits: one problem to report.
        }
      }
      const path = join(dir, `doc-${i}.yaml`);
      writeFileSync(path, stringify(doc));
      return { names, result: await runGateway(await baseEnv(path)), document: stringify(doc) };
    });
    for (const { names, result, document } of await inBatches(jobs)) {
      try {
        expectRefused(result, names);
      } catch (error) {
        throw new Error(`document:\n${document}\n${(error as Error).message}`);
      }
    }
  }, 90_000);

  it('a file that is not YAML, or missing, is refused naming the file', async () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'routes:\n  - prefix: "unterminated\n\tcluster: x\n');
    const results = await inBatches([
      async () => runGateway(await baseEnv(broken)),
      async () => runGateway(await baseEnv(join(dir, 'missing.yaml'))),
    ]);
    expectRefused(results[0] as Refusal, ['broken.yaml']);
    expectRefused(results[1] as Refusal, ['missing.yaml']);
  });

  it('every bad environment variable is refused naming the variable; several at once are all reported', async () => {
    const path = join(dir, 'valid.yaml');
    writeFileSync(path, stringify(validDocument()));
    const jobs = BAD_ENV.map(([name, value]) => async () => ({
      name,
      result: await runGateway({ ...(await baseEnv(path)), [name]: value }),
    }));
    for (const { name, result } of await inBatches(jobs)) expectRefused(result, [name]);
    const several = await runGateway({
      ...(await baseEnv(path)),
      RETRY_COUNT: '0',
      MAX_MESSAGE_BYTES: 'big',
      IDLE_TIMEOUT_MS: 'x',
    });
    expectRefused(several, ['RETRY_COUNT', 'MAX_MESSAGE_BYTES', 'IDLE_TIMEOUT_MS']);
  }, 90_000);
});
