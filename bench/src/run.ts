import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeExit, FakeDiscoverer, getFreePort, type ManagedProcess, tail } from '@stickygw/testkit';
import { benchInstances } from './bench-instances.js';
import { readBenchSettings } from './bench-settings.js';
import { benchPayload, grpcFrame } from './grpc-frame.js';
import { describeMachine } from './machine.js';
import { REPO_ROOT } from './paths.js';
import { readCpuMicros, readRssBytes } from './proc-stats.js';
import { renderReport } from './render-report.js';
import type { BenchResults, LatencyRun, SizeKey, TargetResults } from './results.js';
import { SIZES } from './results.js';
import { runH2load } from './run-h2load.js';
import { runBackendKill } from './scenarios/backend-kill.js';
import { runIdleStreams } from './scenarios/idle-streams.js';
import { runSessionStore } from './scenarios/session-store.js';
import { runStickySessions } from './scenarios/sticky-sessions.js';
import { summarizeLatencies } from './stats.js';
import { goals } from './summarize.js';
import { directTarget } from './targets/direct-target.js';
import { startEchoProcess } from './targets/echo-process.js';
import { gatewayBuilt, startGatewayProcess } from './targets/gateway-process.js';
import { gatewayTargets } from './targets/gateway-target.js';
import { startHaproxyTarget } from './targets/haproxy-target.js';
import { startNaiveTarget } from './targets/naive-target.js';
import { startNginxTarget } from './targets/nginx-target.js';
import { awaitEcho } from './targets/ready-probe.js';
import { PLAIN_PATH, type Target } from './targets/target.js';
import { combineThroughputSlices, type ThroughputSlice } from './throughput-slices.js';

const began = performance.now();

/** Each target's c=1 run per repetition is split into this many slices, the targets taking turns. */
const LATENCY_SLICES = 3;
/**
 * The same for the c=8 runs of the small sizes, whose CPU-per-call ratios (JWT + sticky against the
 * plain route, metrics on against off) are a few µs apart. 64 KiB runs stay whole: every run's end
 * cancels 256 calls of 64 KiB, which some proxies take seconds to digest.
 */
const THROUGHPUT_SLICES: Readonly<Record<SizeKey, number>> = { '20B': 4, '1KiB': 4, '64KiB': 1 };
/** Before each slice: a new h2load connection starts with empty HPACK tables. */
const LATENCY_WARMUP_SECONDS = 0.5;
/** The BENCH_TARGETS id that selects the session-store scenario (it has no h2load target). */
const SESSION_STORE_TARGET = 'gateway-redis-store';

function progress(message: string): void {
  const seconds = Math.floor((performance.now() - began) / 1000);
  const stamp = `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  process.stdout.write(`[bench ${stamp}] ${message}\n`);
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function main(): Promise<void> {
  const settings = readBenchSettings(process.env);
  const machine = describeMachine();
  progress(
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, ` +
      `load average ${machine.loadAverageAtStart}`,
  );
  const work = await mkdtemp(join(tmpdir(), 'bench-'));
  const bodies = {} as Record<SizeKey, Buffer>;
  const bodyFiles = {} as Record<SizeKey, string>;
  for (const size of SIZES) {
    bodies[size.key] = grpcFrame(benchPayload(size.bytes));
    bodyFiles[size.key] = join(work, `body-${size.key}.bin`);
    await writeFile(bodyFiles[size.key], bodies[size.key]);
  }
  const probeBody = bodies['1KiB'];
  const wanted = (id: string) => settings.targets === undefined || settings.targets.includes(id);
  const stoppers: (() => Promise<void>)[] = [];
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    settings,
    machine,
    targets: [],
    unavailable: [],
    stickySessions: undefined,
    sessionStore: undefined,
    idleStreams: [],
    backendKill: [],
    runErrors: [],
    slowRecoveries: [],
    wallSeconds: 0,
    loadAverageAtEnd: 0,
  };
  try {
    const backend = await startEchoProcess('main');
    stoppers.push(async () => {
      await backend.process.stop();
    });
    const discoverer = await FakeDiscoverer.start({ instances: benchInstances(16, [backend.port]) });
    stoppers.push(() => discoverer.stop());
    progress(`echo backend on 127.0.0.1:${backend.port} (pid ${backend.process.pid})`);

    const targets: Target[] = [];
    const tryStart = async (ids: string[], missing: string | undefined, start: () => Promise<Target[]>) => {
      const ids_ = ids.filter(wanted);
      if (ids_.length === 0) return;
      if (missing !== undefined) {
        for (const id of ids_) results.unavailable.push({ id, reason: missing });
        progress(`${ids_.join(', ')}: NOT RUN, ${missing}`);
        return;
      }
      try {
        const started = await start();
        for (const target of started) {
          if (wanted(target.id)) targets.push(target);
          stoppers.push(() => target.stop());
        }
        progress(`${started.map((target) => target.id).join(', ')}: ready on 127.0.0.1:${started[0]?.port}`);
      } catch (error) {
        for (const id of ids_)
          results.unavailable.push({ id, reason: `failed to start: ${errorText(error)}` });
        progress(`${ids_.join(', ')}: NOT RUN, failed to start: ${errorText(error)}`);
      }
    };
    await tryStart(['direct'], undefined, async () => [
      { ...directTarget(backend.port), process: backend.process },
    ]);
    await tryStart(
      ['gateway', 'gateway-auth-sticky'],
      gatewayBuilt()
        ? undefined
        : 'gateway/dist/main.js is not built (npx tsc -b gateway/tsconfig.build.json)',
      async () => {
        const gateway = await startGatewayProcess({
          backendPort: backend.port,
          discovererUrl: discoverer.url,
        });
        try {
          return await gatewayTargets(gateway, probeBody);
        } catch (error) {
          await gateway.stop();
          throw error;
        }
      },
    );
    // The same static route on a second gateway with the admin listener on, so every call is
    // counted (issue 12: metrics cost <= 5% CPU per call, this target against `gateway`).
    await tryStart(
      ['gateway-metrics'],
      gatewayBuilt()
        ? undefined
        : 'gateway/dist/main.js is not built (npx tsc -b gateway/tsconfig.build.json)',
      async () => {
        const gateway = await startGatewayProcess({
          backendPort: backend.port,
          discovererUrl: discoverer.url,
          env: { ADMIN_PORT: String(await getFreePort()) },
        });
        try {
          await awaitEcho(gateway.process, gateway.port, PLAIN_PATH, probeBody);
        } catch (error) {
          await gateway.stop();
          throw error;
        }
        return [
          {
            id: 'gateway-metrics',
            label: 'gateway, static route, metrics on',
            port: gateway.port,
            path: PLAIN_PATH,
            headers: {},
            proxyPid: gateway.process.pid,
            process: gateway.process,
            stop: () => gateway.stop(),
          },
        ];
      },
    );
    await tryStart(
      ['nginx'],
      machine.nginx === undefined ? 'nginx is not installed (apt-get install nginx-light)' : undefined,
      async () => [await startNginxTarget(backend.port, probeBody)],
    );
    await tryStart(
      ['haproxy'],
      machine.haproxy === undefined ? 'haproxy is not installed (apt-get install haproxy)' : undefined,
      async () => [await startHaproxyTarget(backend.port, probeBody)],
    );
    await tryStart(['naive'], undefined, async () => [await startNaiveTarget(backend.port, probeBody)]);
    if (machine.h2load === undefined)
      throw new Error('h2load is not installed (apt-get install nghttp2-client)');

    // h2load only sees HTTP statuses: check once that every target echoes every size exactly.
    for (const target of targets) {
      for (const size of SIZES) {
        try {
          await awaitEcho(undefined, target.port, target.path, bodies[size.key], target.headers, 10_000);
        } catch (error) {
          results.runErrors.push(`${target.id} does not echo a ${size.label} message: ${errorText(error)}`);
          progress(`${target.id}: DOES NOT ECHO ${size.label}: ${errorText(error)}`);
        }
      }
    }

    for (const target of targets) {
      results.targets.push({
        id: target.id,
        label: target.label,
        throughput: { '20B': [], '1KiB': [], '64KiB': [] },
        latency: [],
        rssBytes: undefined,
      });
    }
    const resultsOf = (target: Target) =>
      results.targets.find((entry) => entry.id === target.id) as TargetResults;

    // JIT warm-up of every proxy and of the backend, not measured.
    for (const target of targets) {
      for (const size of ['20B', '64KiB'] as const) {
        await runH2load({
          port: target.port,
          path: target.path,
          headers: target.headers,
          bodyFile: bodyFiles[size],
          clients: 8,
          streams: 32,
          durationSeconds: 1,
        }).catch((error: unknown) => progress(`warm-up of ${target.id} failed: ${errorText(error)}`));
      }
    }
    progress(`warmed up ${targets.map((target) => target.id).join(', ')}`);

    const throughputSlice = async (
      target: Target,
      size: SizeKey,
      durationSeconds: number,
    ): Promise<ThroughputSlice> => {
      const proxyBefore = target.proxyPid === undefined ? 0 : readCpuMicros(target.proxyPid);
      const backendBefore = readCpuMicros(backend.process.pid);
      const { summary } = await runH2load({
        port: target.port,
        path: target.path,
        headers: target.headers,
        bodyFile: bodyFiles[size],
        clients: 8,
        streams: 32,
        durationSeconds,
      });
      const codes = summary.statusCodes;
      return {
        requests: summary.requests.done,
        durationSeconds: summary.durationSeconds,
        dataBytes: summary.dataBytes,
        failures:
          summary.requests.failed +
          summary.requests.errored +
          summary.requests.timeout +
          codes['3xx'] +
          codes['4xx'] +
          codes['5xx'],
        proxyCpuMicros:
          target.proxyPid === undefined ? undefined : readCpuMicros(target.proxyPid) - proxyBefore,
        backendCpuMicros: readCpuMicros(backend.process.pid) - backendBefore,
      };
    };
    /** One slice of a target's c=1 run: the answered calls' durations (µs). */
    const latencySlice = async (target: Target, repetition: number, slice: number): Promise<number[]> => {
      const { latenciesMicros, summary } = await runH2load({
        port: target.port,
        path: target.path,
        headers: target.headers,
        bodyFile: bodyFiles['20B'],
        clients: 1,
        streams: 1,
        durationSeconds: settings.latencySeconds / LATENCY_SLICES,
        warmupSeconds: LATENCY_WARMUP_SECONDS,
        logFile: join(work, `latency-${target.id}-${repetition}-${slice}.log`),
      });
      if (latenciesMicros === undefined || latenciesMicros.length === 0) {
        throw new Error(
          `no answered request in the latency run: requests ${JSON.stringify(summary.requests)}, ` +
            `status codes ${JSON.stringify(summary.statusCodes)}`,
        );
      }
      return latenciesMicros;
    };

    // A target whose process has exited is reported once, with the process's last output, and
    // skipped from then on (instead of failing and timing out on every later run).
    const gone = new Set<ManagedProcess>();
    const exited = (target: Target, when: string): boolean => {
      const owner = target.process;
      if (owner === undefined || owner.exitStatus === undefined) return false;
      if (!gone.has(owner)) {
        gone.add(owner);
        const sharing = targets.filter((entry) => entry.process === owner).map((entry) => entry.id);
        const served = sharing.length === 0 ? [target.id] : sharing;
        const message =
          `${owner.name} (pid ${owner.pid}, serving ${served.join(', ')}) EXITED (${describeExit(owner.exitStatus)}) ${when}; ` +
          `its remaining runs are skipped. Last output:\n${tail(owner.output(), 30) || '(none)'}`;
        results.runErrors.push(message);
        progress(message);
      }
      return true;
    };

    // After each run: wait until the target answers again, so a target still digesting the
    // previous run (e.g. 256 cancelled 64 KiB calls) does not fail or slow down the next one.
    const settle = async (target: Target, after: string) => {
      if (exited(target, `by the end of ${after}`)) return;
      const started = performance.now();
      try {
        await awaitEcho(undefined, target.port, target.path, bodies['20B'], target.headers, 20_000);
      } catch (error) {
        results.runErrors.push(`${target.id} did not answer again after ${after}: ${errorText(error)}`);
      }
      const ms = performance.now() - started;
      if (ms > 250) {
        results.slowRecoveries.push({ target: target.id, after, ms });
        progress(`${target.id} answered again ${(ms / 1000).toFixed(2)} s after ${after}`);
      }
    };

    for (let repetition = 0; repetition < settings.repetitions; repetition++) {
      // Rotate the order so no target always runs first (or right after the same neighbour).
      const order = targets.map((_, i) => targets[(i + repetition) % targets.length] as Target);
      const rep = `rep ${repetition + 1}/${settings.repetitions}`;
      for (const size of SIZES) {
        // In slices, the targets taking turns, like the c=1 runs below.
        const slices = THROUGHPUT_SLICES[size.key];
        const sliced = new Map<Target, ThroughputSlice[]>();
        for (let slice = 0; slice < slices; slice++) {
          for (const target of order) {
            if (exited(target, `before the ${size.label} c8 m32 run of ${rep}`)) continue;
            try {
              const part = await throughputSlice(target, size.key, settings.throughputSeconds / slices);
              sliced.set(target, [...(sliced.get(target) ?? []), part]);
            } catch (error) {
              results.runErrors.push(
                `${target.id} ${size.label} ${rep} slice ${slice + 1}: ${errorText(error)}`,
              );
              progress(`${rep} · ${size.label} · ${target.id}: FAILED ${errorText(error)}`);
            }
            await settle(target, `the ${size.label} c8 m32 run of ${rep}`);
          }
        }
        for (const target of order) {
          const parts = sliced.get(target);
          if (parts === undefined) continue;
          const run = combineThroughputSlices(parts, repetition, bodies[size.key].length);
          resultsOf(target).throughput[size.key].push(run);
          const cpu =
            run.proxyCpuMicrosPerRequest === undefined
              ? ''
              : `, ${run.proxyCpuMicrosPerRequest.toFixed(0)} µs CPU/req`;
          const mib = size.key === '64KiB' ? `, ${run.mibPerSecond.toFixed(0)} MiB/s` : '';
          const failed =
            (run.failures > 0 ? `, ${run.failures} FAILED` : '') +
            (run.echoedFraction < 0.9
              ? `, TRUNCATED: ${(run.echoedFraction * 100).toFixed(0)}% of the request bytes came back`
              : '');
          progress(
            `${rep} · ${size.label} c8 m32 · ${target.id}: ${Math.round(run.requestsPerSecond)} req/s${mib}${cpu}${failed}`,
          );
        }
      }
      // The c=1 runs in slices, the targets taking turns: a burst of noise from the shared machine
      // falls on every target's slice of that moment rather than on one target's whole run.
      const sliced = new Map<Target, number[]>();
      for (let slice = 0; slice < LATENCY_SLICES; slice++) {
        for (const target of order) {
          if (exited(target, `before the c1 m1 run of ${rep}`)) continue;
          try {
            const durations = await latencySlice(target, repetition, slice);
            sliced.set(target, [...(sliced.get(target) ?? []), ...durations]);
          } catch (error) {
            results.runErrors.push(`${target.id} latency ${rep} slice ${slice + 1}: ${errorText(error)}`);
            progress(`${rep} · c1 m1 · ${target.id}: FAILED ${errorText(error)}`);
          }
          await settle(target, `the c1 m1 run of ${rep}`);
        }
      }
      for (const target of order) {
        const durations = sliced.get(target);
        if (durations === undefined) continue;
        const latency = summarizeLatencies(durations);
        const run: LatencyRun = {
          repetition,
          p50Ms: latency.p50Micros / 1000,
          p99Ms: latency.p99Micros / 1000,
          requests: durations.length,
        };
        resultsOf(target).latency.push(run);
        progress(
          `${rep} · c1 m1 · ${target.id}: p50 ${run.p50Ms.toFixed(3)} ms, p99 ${run.p99Ms.toFixed(3)} ms`,
        );
      }
    }
    for (const target of targets) {
      if (target.proxyPid !== undefined && !exited(target, 'before the end of the h2load runs'))
        resultsOf(target).rssBytes = readRssBytes(target.proxyPid);
    }

    // The h2load targets and their backend are done with.
    for (const stop of stoppers.splice(0).reverse()) await stop().catch(() => {});

    // The own-client scenarios use fresh proxies (and backends): their RSS and their state are then
    // the scenario's alone, not left over from the h2load runs.
    const scenarioDiscoverer = await FakeDiscoverer.start();
    stoppers.push(() => scenarioDiscoverer.stop());
    const available = (id: string) => results.targets.some((target) => target.id === id);
    const starters: [string, (backendPort: number) => Promise<Target>][] = [];
    if (available('gateway')) {
      starters.push([
        'gateway',
        async (backendPort) => {
          const gateway = await startGatewayProcess({ backendPort, discovererUrl: scenarioDiscoverer.url });
          try {
            await awaitEcho(gateway.process, gateway.port, PLAIN_PATH, probeBody);
          } catch (error) {
            await gateway.stop();
            throw error;
          }
          return {
            id: 'gateway',
            label: 'gateway',
            port: gateway.port,
            path: PLAIN_PATH,
            headers: {},
            proxyPid: gateway.process.pid,
            process: gateway.process,
            stop: gateway.stop,
          };
        },
      ]);
    }
    if (available('nginx')) starters.push(['nginx', (port) => startNginxTarget(port, probeBody)]);
    if (available('haproxy')) starters.push(['haproxy', (port) => startHaproxyTarget(port, probeBody)]);
    if (available('naive')) starters.push(['naive', (port) => startNaiveTarget(port, probeBody)]);

    if (settings.scenarios.includes('idle')) {
      for (const [id, start] of starters) {
        const idleBackend = await startEchoProcess('idle');
        let target: Target | undefined;
        try {
          target = await start(idleBackend.port);
          const idle = await runIdleStreams(target, {
            streams: settings.idleStreams,
            streamsPerConnection: 1000,
            message: bodies['20B'],
            phaseTimeoutMs: 30_000,
          });
          exited(target, 'during the idle-streams scenario');
          results.idleStreams.push(idle);
          progress(
            `idle streams · ${id}: ${idle.opened}/${idle.requested} open in ${(idle.openMs / 1000).toFixed(2)} s, ` +
              `RSS ${((idle.rssBeforeBytes ?? 0) / 1e6).toFixed(0)} → ${((idle.rssOpenBytes ?? 0) / 1e6).toFixed(0)} MB, ` +
              `closed in ${(idle.closeMs / 1000).toFixed(2)} s`,
          );
        } catch (error) {
          if (target !== undefined) exited(target, 'during the idle-streams scenario');
          results.idleStreams.push({ target: id, error: errorText(error) });
          progress(`idle streams · ${id}: FAILED ${errorText(error)}`);
        } finally {
          await target?.stop().catch(() => {});
          await idleBackend.process.stop();
        }
      }
    }

    if (settings.scenarios.includes('sticky') && wanted('gateway-auth-sticky')) {
      if (!gatewayBuilt()) results.stickySessions = { target: 'gateway', error: 'gateway is not built' };
      else {
        try {
          const sticky = await runStickySessions({
            sessions: settings.sessions,
            instances: settings.sessions + 100,
            durationMs: settings.throughputSeconds * 1000,
            concurrency: 64,
            connections: 8,
            body: bodies['20B'],
          });
          results.stickySessions = sticky;
          progress(
            `sticky · ${sticky.sessions} sessions bound in ${(sticky.bindMs / 1000).toFixed(2)} s; ` +
              `${Math.round(sticky.sticky.callsPerSecond)} calls/s at ${sticky.sticky.gatewayCpuMicrosPerCall.toFixed(0)} µs CPU/call ` +
              `(plain route ${Math.round(sticky.plain.callsPerSecond)} calls/s at ${sticky.plain.gatewayCpuMicrosPerCall.toFixed(0)} µs); ` +
              `${sticky.stickyViolations} sticky violations`,
          );
        } catch (error) {
          results.stickySessions = { target: 'gateway', error: errorText(error) };
          progress(`sticky: FAILED ${errorText(error)}`);
        }
      }
    }

    if (settings.scenarios.includes('store') && wanted(SESSION_STORE_TARGET)) {
      if (!gatewayBuilt()) results.sessionStore = { target: 'gateway', error: 'gateway is not built' };
      else {
        try {
          const store = await runSessionStore({
            sessions: settings.sessions,
            durationMs: (settings.throughputSeconds * 1000) / 2,
            repetitions: settings.repetitions,
            concurrency: 64,
            connections: 8,
            body: bodies['20B'],
          });
          results.sessionStore = store;
          progress(
            `session store · ${store.sessions} sessions: bound calls ${store.redis.boundCpuMicrosPerCall.map((v) => v.toFixed(0)).join('/')} µs CPU/call ` +
              `on Redis vs ${store.memory.boundCpuMicrosPerCall.map((v) => v.toFixed(0)).join('/')} in memory; first call p99 ` +
              `${store.redis.firstCallP99Ms.toFixed(2)} vs ${store.memory.firstCallP99Ms.toFixed(2)} ms; GATEWAY_WORKERS=2 vs 1 ` +
              `${store.workers.ratio?.toFixed(2) ?? 'n/a'}× req/s (load generator on the same cores); ${store.stickyViolations} sticky violations`,
          );
        } catch (error) {
          results.sessionStore = { target: 'gateway', error: errorText(error) };
          progress(`session store: FAILED ${errorText(error)}`);
        }
      }
    }

    if (settings.scenarios.includes('kill')) {
      for (const [id, start] of starters) {
        try {
          const kill = await runBackendKill(start, {
            concurrency: 16,
            beforeMs: 1_000,
            afterMs: 1_000,
            callTimeoutMs: 5_000,
            body: bodies['20B'],
          });
          results.backendKill.push(kill);
          progress(
            `backend killed · ${id}: ${kill.afterKill
              .map((group) => `${group.calls} × ${group.outcome} (max ${group.maxCallMs.toFixed(0)} ms)`)
              .join('; ')}`,
          );
        } catch (error) {
          results.backendKill.push({ target: id, error: errorText(error) });
          progress(`backend killed · ${id}: FAILED ${errorText(error)}`);
        }
      }
    }
  } finally {
    for (const stop of stoppers.reverse()) await stop().catch(() => {});
    await rm(work, { recursive: true, force: true });
  }

  results.wallSeconds = (performance.now() - began) / 1000;
  results.loadAverageAtEnd = Math.round((os.loadavg()[0] as number) * 100) / 100;
  const dir = settings.resultsDir ?? join(REPO_ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(dir, 'latest.md'), renderReport(results));
  for (const goal of goals(results)) {
    progress(
      `${goal.met === undefined ? 'NOT MEASURED' : goal.met ? 'MET' : 'NOT MET'} · ${goal.goal}: ${goal.measured}`,
    );
  }
  progress(`wrote ${join(dir, 'latest.md')} and latest.json in ${Math.round(results.wallSeconds)} s`);
}

process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
