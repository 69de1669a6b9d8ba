import { writeFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { faultStack } from '../fault-stack.js';
import { mib, type ProcessSample, sampleProcess } from '../process-metrics.js';
import { BookingTracker } from './booking-tracker.js';
import { ChaosLoop } from './chaos-loop.js';
import { Random, sleep } from './random.js';
import type { SoakConfig } from './soak-config.js';
import { SoakLedger } from './soak-ledger.js';
import { evaluateSoak, formatSoakReport, type SoakReport } from './soak-report.js';
import { VirtualSession } from './virtual-session.js';

/** Load that runs before the "warm" sample, so lazily created pools and JIT are not counted as growth. */
const WARM_UP_MS = 10_000;
/** After the load phase: how long pending calls may take to end before they count as never completed. */
const DRAIN_SLACK_MS = 5_000;

/**
 * The soak (issue 6): a fresh process stack with a probe cluster, `sessions` virtual clients running a
 * mixed load, and a chaos loop restarting random instances, for `seconds`. Prints a progress line
 * every `progressMs` and returns the report; `report.passed` says whether every invariant held.
 */
export async function runSoak(config: SoakConfig, print: (line: string) => void): Promise<SoakReport> {
  print(
    `soak: ${config.seconds}s, ${config.sessions} sessions, ${config.workers} workers, ${config.probes} probes, ` +
      `${config.gateways} gateway${config.gateways > 1 ? 's over a Redis session store' : ''}, ` +
      `chaos every ~${config.chaosIntervalMs}ms, deadline ${config.deadlineMs}ms, seed ${config.seed}`,
  );
  const stack = await faultStack({
    workers: config.workers,
    probes: config.probes,
    gateways: config.gateways,
    subscribeIntervalMs: 100,
    discovererIntervalMs: 500,
    retryCount: 3,
    retryTimeoutMs: 2_000,
    heartbeatMs: 1_000,
    logLevel: 'warn',
    gatewayEnv: { ACCESS_LOG: String(config.accessLog) },
  }).start();
  print(
    `stack ready: gateway ${stack.gatewayAddresses.join(', ')} (measured: pid ${stack.gatewayPid}), logs in ${stack.logDir}`,
  );
  const random = new Random(config.seed);
  // While the chaos has Redis down, auth cannot look the user up (dependency-faults.test.ts).
  const ledger = new SoakLedger(
    config.gateways > 1 ? [{ kind: 'login', code: status.INTERNAL, details: 'failed to get user' }] : [],
  );
  const tracker = new BookingTracker();
  const chaos = new ChaosLoop(stack, tracker, random, config.chaosIntervalMs);
  const samples: Array<{ atMs: number; sample: ProcessSample }> = [];
  const sample = (atMs: number) => {
    const value = sampleProcess(stack.gatewayPid);
    samples.push({ atMs, sample: value });
    return value;
  };
  let stopping = false;
  let report: SoakReport | undefined;
  try {
    const idle = sample(0);
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const context = {
      gatewayAddresses: stack.gatewayAddresses,
      ledger,
      tracker,
      deadlineMs: config.deadlineMs,
      random,
      stopping: () => stopping,
    };
    const sessions = Array.from(
      { length: config.sessions },
      (_, i) => new VirtualSession(context, `soak-${config.seed}-${i + 1}`),
    );
    const running = sessions.map((session) => session.run());
    chaos.start();

    const gatewayChaos = () =>
      config.gateways > 1
        ? ` | gateway kills ${chaos.stats.gatewayKills} redis restarts ${chaos.stats.redisRestarts}`
        : '';
    let warm: ProcessSample | undefined;
    let lastTotal = 0;
    let lastAt = 0;
    const endAt = config.seconds * 1_000;
    // Stops a little early rather than printing a second, empty line for the last few milliseconds.
    while (endAt - elapsed() > 50) {
      await sleep(Math.min(config.progressMs, endAt - elapsed()));
      const now = elapsed();
      const current = sample(now);
      if (warm === undefined && now >= Math.min(WARM_UP_MS, endAt / 2)) warm = current;
      const rate = ((ledger.total - lastTotal) * 1_000) / Math.max(1, now - lastAt);
      lastTotal = ledger.total;
      lastAt = now;
      const okShare = ledger.total === 0 ? 0 : (100 * ledger.ok) / ledger.total;
      print(
        `[${(now / 1_000).toFixed(0).padStart(5)}s/${config.seconds}s] calls ${ledger.total} (${rate.toFixed(0)}/s) ` +
          `ok ${okShare.toFixed(1)}% | in flight ${ledger.pending} | kills ${chaos.stats.kills + chaos.stats.terms} ` +
          `restarts ${chaos.stats.restarts} down ${chaos.down}${gatewayChaos()} | double-booked ${tracker.doubleBooked} ` +
          `| gateway rss ${mib(current.rssBytes)} fds ${current.openHandles}`,
      );
    }
    const mid = samples.reduce((best, s) =>
      Math.abs(s.atMs - endAt / 2) < Math.abs(best.atMs - endAt / 2) ? s : best,
    ).sample;

    print('load phase over: stopping chaos and sessions, draining calls');
    stopping = true;
    await chaos.stop();
    const drainDeadline = performance.now() + config.deadlineMs * 2 + DRAIN_SLACK_MS + 3_000;
    await Promise.race([Promise.all(running), sleep(Math.max(0, drainDeadline - performance.now()))]);
    // Let the gateway notice the closed client connections before the final sample.
    await sleep(1_500);
    const end = sample(elapsed());
    const peakRss = Math.max(...samples.map((s) => s.sample.rssBytes));

    report = evaluateSoak({
      config,
      seconds: elapsed() / 1_000,
      ledger,
      tracker,
      chaos: chaos.stats,
      gateway: { idle, warm: warm ?? idle, mid, end, peakRss },
      instanceCount: config.workers + config.probes,
    });
    for (const line of formatSoakReport(report)) print(line);
    if (config.reportPath !== undefined)
      writeFileSync(config.reportPath, `${JSON.stringify(report, null, 2)}\n`);
    if (!report.passed) print(`logs kept in ${stack.logDir}`);
    return report;
  } finally {
    stopping = true;
    await chaos.stop();
    const stopped = await stack.stop();
    if (report?.passed === true) stopped.removeLogs();
  }
}
