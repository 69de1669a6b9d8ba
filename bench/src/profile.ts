import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeDiscoverer, getFreePort } from '@stickygw/testkit';
import { benchInstances } from './bench-instances.js';
import { type CpuProfile, type CpuProfileSummary, summarizeCpuProfile } from './cpu-profile-summary.js';
import { benchPayload, grpcFrame } from './grpc-frame.js';
import { REPO_ROOT } from './paths.js';
import { readCpuMicros } from './proc-stats.js';
import { runH2load } from './run-h2load.js';
import { runStickySessions } from './scenarios/sticky-sessions.js';
import { startEchoProcess } from './targets/echo-process.js';
import { startGatewayProcess } from './targets/gateway-process.js';
import { gatewayTargets } from './targets/gateway-target.js';
import { startNaiveTarget } from './targets/naive-target.js';
import type { Target } from './targets/target.js';

/**
 * `node bench/dist/profile.js [target...]`: runs h2load (20 B or BENCH_PROFILE_BYTES, c=8 m=32, BENCH_PROFILE_SECONDS,
 * default 8) through one proxy process started with `--cpu-prof`, stops it so V8 writes the
 * profile, and prints the top self-time functions. Targets: gateway (default), gateway-metrics (the
 * static route with the admin listener on, so every call is counted), gateway-auth-sticky,
 * naive, and gateway-sessions (the own client cycling 1,000 sessions on the auth + sticky route, then
 * the round_robin and static routes, in one profile). Writes bench/results/profile-latest.md; the raw
 * .cpuprofile files stay in bench/results/tmp/.
 */
/** BENCH_PROFILE_BYTES: the message size of the h2load calls (default 20). */
function messageBytes(): number {
  const bytes = Number(process.env.BENCH_PROFILE_BYTES ?? '20');
  if (!Number.isInteger(bytes) || bytes < 0)
    throw new Error(`BENCH_PROFILE_BYTES must be a whole number, got ${process.env.BENCH_PROFILE_BYTES}`);
  return bytes;
}

const PROFILABLE = ['gateway', 'gateway-metrics', 'gateway-auth-sticky', 'gateway-sessions', 'naive'];

async function readProfile(id: string, profileDir: string) {
  const files = (await readdir(profileDir)).filter((file) => file.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`${id}: no .cpuprofile written in ${profileDir}`);
  const latest = files.sort().at(-1) as string;
  const profile = JSON.parse(await readFile(join(profileDir, latest), 'utf8')) as CpuProfile;
  return { profileFile: join(profileDir, latest), summary: summarizeCpuProfile(profile, 30) };
}

async function profileSessions(seconds: number, profileDir: string) {
  const result = await runStickySessions({
    sessions: 1000,
    instances: 1100,
    durationMs: seconds * 1000,
    concurrency: 64,
    connections: 8,
    body: grpcFrame(benchPayload(20)),
    gatewayNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
  });
  const calls = result.sticky.calls + result.spread.calls + result.plain.calls;
  return {
    id: 'gateway-sessions',
    requestsPerSecond: result.sticky.callsPerSecond,
    cpuPerRequest: result.sticky.gatewayCpuMicrosPerCall,
    note:
      `${calls} calls: auth + sticky over 1,000 sessions ${result.sticky.gatewayCpuMicrosPerCall.toFixed(0)} µs/call, ` +
      `round_robin over 1,100 instances ${result.spread.gatewayCpuMicrosPerCall.toFixed(0)} µs/call, ` +
      `static ${result.plain.gatewayCpuMicrosPerCall.toFixed(0)} µs/call (one profile for all three). `,
    ...(await readProfile('gateway-sessions', profileDir)),
  };
}

async function profileOne(id: string, seconds: number, profileDir: string) {
  if (id === 'gateway-sessions') return profileSessions(seconds, profileDir);
  const body = grpcFrame(benchPayload(messageBytes()));
  const work = await mkdtemp(join(tmpdir(), 'bench-profile-'));
  const bodyFile = join(work, 'body.bin');
  await writeFile(bodyFile, body);
  const backend = await startEchoProcess('profile');
  const discoverer = await FakeDiscoverer.start({ instances: benchInstances(16, [backend.port]) });
  const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  let target: Target | undefined;
  let stopProxy: () => Promise<void> = async () => {};
  try {
    if (id === 'naive') {
      target = await startNaiveTarget(backend.port, body, nodeArgs);
      stopProxy = target.stop;
    } else {
      const gateway = await startGatewayProcess({
        backendPort: backend.port,
        discovererUrl: discoverer.url,
        nodeArgs,
        // The admin listener on: every call is counted (issue 12's metrics cost).
        ...(id === 'gateway-metrics' ? { env: { ADMIN_PORT: String(await getFreePort()) } } : {}),
      });
      stopProxy = gateway.stop;
      const [plain, sticky] = await gatewayTargets(gateway, body);
      target = id === 'gateway-auth-sticky' ? sticky : plain;
    }
    const pid = target.proxyPid as number;
    const cpuBefore = readCpuMicros(pid);
    const { summary } = await runH2load({
      port: target.port,
      path: target.path,
      headers: target.headers,
      bodyFile,
      clients: 8,
      streams: 32,
      durationSeconds: seconds,
    });
    const cpuPerRequest = (readCpuMicros(pid) - cpuBefore) / summary.requests.done;
    await stopProxy();
    return {
      id,
      requestsPerSecond: summary.requestsPerSecond,
      cpuPerRequest,
      note: '',
      ...(await readProfile(id, profileDir)),
    };
  } finally {
    await stopProxy().catch(() => {});
    await discoverer.stop();
    await backend.process.stop();
    await rm(work, { recursive: true, force: true });
  }
}

function render(
  runs: {
    id: string;
    requestsPerSecond: number;
    cpuPerRequest: number;
    note: string;
    profileFile: string;
    summary: CpuProfileSummary;
  }[],
): string {
  const out = [
    `# CPU profiles (node --cpu-prof, ${messageBytes()} B calls; h2load c=8 m=32 unless noted)`,
    '',
    'Reproduce: `node bench/dist/profile.js <target...>` after `make build`.',
    '',
  ];
  for (const run of runs) {
    out.push(
      `## ${run.id}`,
      '',
      `${run.note}${Math.round(run.requestsPerSecond)} req/s under the profiler (slower than without it), ` +
        `${run.cpuPerRequest.toFixed(0)} µs CPU per request; ${run.summary.busyMs.toFixed(0)} ms sampled busy time. ` +
        `Profile: \`${run.profileFile.replace(REPO_ROOT, '')}\`.`,
      '',
      '| self time by function | ms | % |',
      '|---|---:|---:|',
      ...run.summary.byFunction.map(
        (entry) => `| \`${entry.name}\` | ${entry.selfMs.toFixed(0)} | ${entry.percent.toFixed(1)} |`,
      ),
      '',
      '| self time by file | ms | % |',
      '|---|---:|---:|',
      ...run.summary.byFile.map(
        (entry) => `| \`${entry.name}\` | ${entry.selfMs.toFixed(0)} | ${entry.percent.toFixed(1)} |`,
      ),
      '',
    );
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const ids = process.argv.slice(2);
  const chosen = ids.length === 0 ? ['gateway'] : ids;
  const unknown = chosen.filter((id) => !PROFILABLE.includes(id));
  if (unknown.length > 0)
    throw new Error(`unknown profile target ${unknown.join(', ')}; choose among ${PROFILABLE.join(', ')}`);
  const seconds = Number(process.env.BENCH_PROFILE_SECONDS ?? '8');
  const results = join(REPO_ROOT, 'bench', 'results');
  const runs = [];
  for (const id of chosen) {
    const profileDir = join(results, 'tmp', `profile-${id}-${Date.now()}`);
    await mkdir(profileDir, { recursive: true });
    const run = await profileOne(id, seconds, profileDir);
    runs.push(run);
    process.stdout.write(
      `\n${id}: ${Math.round(run.requestsPerSecond)} req/s, ${run.cpuPerRequest.toFixed(0)} µs CPU/req\n`,
    );
    for (const entry of run.summary.byFunction.slice(0, 15)) {
      process.stdout.write(
        `  ${entry.percent.toFixed(1).padStart(5)}%  ${entry.selfMs.toFixed(0).padStart(6)} ms  ${entry.name}\n`,
      );
    }
  }
  await writeFile(join(results, 'profile-latest.md'), render(runs));
  process.stdout.write(`\nwrote ${join(results, 'profile-latest.md')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `profile failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
