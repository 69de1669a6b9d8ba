import { type BenchResults, isFailed, SIZES } from './results.js';
import { compare, compareCpu, compareLatency, goals, medianLatency, medianThroughput } from './summarize.js';

const int = (value: number | undefined) =>
  value === undefined ? '—' : Math.round(value).toLocaleString('en-US');
const fixed = (value: number | undefined, digits: number) =>
  value === undefined ? '—' : value.toFixed(digits);
const mb = (bytes: number | undefined) => (bytes === undefined ? '—' : (bytes / 1e6).toFixed(0));
const tally = (outcomes: Record<string, number>) =>
  Object.entries(outcomes)
    .map(([outcome, count]) => `${outcome}: ${count.toLocaleString('en-US')}`)
    .join('; ');

/** Multi-line errors (process output) folded into one table- and list-safe line. */
function oneLine(text: string, limit = 500): string {
  const folded = text.replace(/\s*\n\s*/g, ' ⏎ ').replace(/\|/g, '\\|');
  return folded.length > limit ? `${folded.slice(0, limit)}…` : folded;
}

/** The markdown report (bench/results/latest.md) of one run; every figure comes from `results`. */
export function renderReport(results: BenchResults): string {
  const { machine, settings } = results;
  const out: string[] = [];
  out.push('# Benchmark results', '');
  out.push(
    `\`make bench\` of ${results.generatedAt}, ${Math.round(results.wallSeconds)} s wall. Unary calls through each target ` +
      `to a node:http2 echo backend on loopback, load from h2load (request = 5-byte gRPC prefix + payload, ` +
      `\`content-type: application/grpc\`, \`te: trailers\`). Targets run interleaved in the same run, ` +
      `${settings.repetitions} repetitions each (target order rotated per repetition); figures are medians. ` +
      `c=8 m=32 runs last ${settings.throughputSeconds} s, c=1 m=1 runs ${settings.latencySeconds} s per target per repetition, in 3 slices the targets take turns in, each after a 0.5 s warm-up.`,
    '',
  );
  out.push('## Machine', '');
  out.push(
    `- CPU: ${machine.cpuModel}, ${machine.cores} cores; memory ${machine.memoryGiB} GiB; ${machine.kernel}`,
    `- node ${machine.node}; nginx ${machine.nginx ?? 'NOT INSTALLED'}; haproxy ${machine.haproxy ?? 'NOT INSTALLED'}; ` +
      `h2load ${machine.h2load ?? 'NOT INSTALLED'}`,
    `- 1-minute load average: ${machine.loadAverageAtStart} at start, ${results.loadAverageAtEnd} at end ` +
      '(the machine is shared; load from elsewhere lowers every figure)',
  );
  for (const missing of results.unavailable)
    out.push(`- **${missing.id} did not run**: ${oneLine(missing.reason)}`);
  for (const failure of results.runErrors) out.push(`- run failed: ${oneLine(failure, 3000)}`);
  for (const slow of results.slowRecoveries) {
    out.push(
      `- ${slow.target} answered a call again only ${(slow.ms / 1000).toFixed(2)} s after ${slow.after}`,
    );
  }
  out.push('');

  out.push('## Unary throughput, cost and latency', '');
  out.push(
    '| target | req/s 20 B | req/s 1 KiB | req/s 64 KiB | MiB/s 64 KiB | proxy CPU µs/req 20 B / 1 KiB / 64 KiB | ' +
      'backend CPU µs/req 20 B | p50 / p99 c=1 (ms) | proxy RSS after (MB) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const target of results.targets) {
    const cpu = SIZES.map((size) =>
      fixed(medianThroughput(target, size.key, 'proxyCpuMicrosPerRequest'), 0),
    ).join(' / ');
    out.push(
      `| ${target.label} | ${int(medianThroughput(target, '20B', 'requestsPerSecond'))} | ` +
        `${int(medianThroughput(target, '1KiB', 'requestsPerSecond'))} | ` +
        `${int(medianThroughput(target, '64KiB', 'requestsPerSecond'))} | ` +
        `${fixed(medianThroughput(target, '64KiB', 'mibPerSecond'), 0)} | ${cpu} | ` +
        `${fixed(medianThroughput(target, '20B', 'backendCpuMicrosPerRequest'), 0)} | ` +
        `${fixed(medianLatency(target, 'p50Ms'), 3)} / ${fixed(medianLatency(target, 'p99Ms'), 3)} | ${mb(target.rssBytes)} |`,
    );
  }
  const failures = results.targets.flatMap((target) =>
    SIZES.flatMap((size) =>
      target.throughput[size.key].flatMap((run) => {
        const where = `${target.id} ${size.label} repetition ${run.repetition + 1}`;
        const found: string[] = [];
        if (run.failures > 0) found.push(`${where}: ${run.failures} failed requests`);
        if (run.echoedFraction < 0.9) {
          const percent = (run.echoedFraction * 100).toFixed(0);
          found.push(`${where}: responses truncated (${percent}% of the bytes sent came back)`);
        }
        return found;
      }),
    ),
  );
  if (failures.length > 0) out.push('', `Problems: ${failures.join('; ')}.`);
  out.push('');

  out.push('## Ratios', '');
  out.push(
    'Median of the per-repetition ratios (repetition i of one target against repetition i of the other: ' +
      "same machine conditions); in parentheses each repetition's ratio. 64 KiB in MiB/s.",
    '',
  );
  const pairs: [string, string][] = [];
  for (const subject of ['gateway', 'gateway-auth-sticky', 'naive', 'haproxy']) {
    for (const reference of ['haproxy', 'nginx', 'naive']) {
      if (subject !== reference) pairs.push([subject, reference]);
    }
  }
  pairs.push(['gateway-auth-sticky', 'gateway']);
  pairs.push(['gateway-metrics', 'gateway']);
  const ran = (id: string) => results.targets.some((target) => target.id === id);
  const shown = pairs.filter(([subject, reference]) => ran(subject) && ran(reference));
  const cell = (comparison: { paired: number | undefined; perRepetition: readonly (number | undefined)[] }) =>
    `${fixed(comparison.paired, 2)} (${comparison.perRepetition.map((value) => fixed(value, 2)).join(', ')})`;
  const ratioTable = (compareWith: typeof compare) => {
    out.push('| subject vs reference | 20 B | 1 KiB | 64 KiB |', '|---|---:|---:|---:|');
    for (const [subject, reference] of shown) {
      const cells = SIZES.map((size) => cell(compareWith(results, subject, reference, size.key)));
      out.push(`| ${subject} vs ${reference} | ${cells.join(' | ')} |`);
    }
    out.push('');
  };
  out.push('Throughput (higher is better):', '');
  ratioTable(compare);
  out.push(
    'Proxy CPU per request (lower is better; the figure least disturbed by other load on a shared machine):',
    '',
  );
  ratioTable(compareCpu);
  out.push('Latency at c=1 m=1 (lower is better):', '');
  out.push('| subject vs reference | p50 | p99 |', '|---|---:|---:|');
  for (const [subject, reference] of shown) {
    out.push(
      `| ${subject} vs ${reference} | ${cell(compareLatency(results, subject, reference, 'p50Ms'))} | ` +
        `${cell(compareLatency(results, subject, reference, 'p99Ms'))} |`,
    );
  }
  out.push('');

  out.push(
    '## Issue 9 targets',
    '',
    'Each ratio is the median of the per-repetition ratios of this run.',
    '',
    '| target | measured | met |',
    '|---|---|---|',
  );
  for (const goal of goals(results)) {
    out.push(
      `| ${goal.goal} | ${oneLine(goal.measured)} | ${goal.met === undefined ? 'not measured' : goal.met ? 'met' : '**not met**'} |`,
    );
  }
  out.push('');

  const sticky = results.stickySessions;
  out.push('## Sticky routing across many sessions (own node:http2 client)', '');
  if (sticky === undefined) out.push('Not run.');
  else if (isFailed(sticky)) out.push(`Failed: ${oneLine(sticky.error)}`);
  else {
    out.push(
      `${sticky.sessions.toLocaleString('en-US')} sessions, each with its own \`session-id\` and valid token, ` +
        `on a fresh gateway whose discoverer lists ${sticky.instances.toLocaleString('en-US')} instance ids ` +
        '(spread over two echo backends). Binding every session (first call each) took ' +
        `${(sticky.bindMs / 1000).toFixed(2)} s (${tally(sticky.bindOutcomes)}). Calls answered by another backend ` +
        `than the session's first: ${sticky.stickyViolations}. Gateway RSS afterwards: ${mb(sticky.gatewayRssBytes)} MB.`,
      '',
      '| route | calls/s | gateway CPU µs/call | p50 / p99 (ms) | outcomes |',
      '|---|---:|---:|---:|---|',
    );
    for (const [name, loop] of [
      ['JWT + sticky, cycling over all sessions', sticky.sticky],
      ['round_robin over the same instances, no auth (same upstream fan-out)', sticky.spread],
      ['plain static route (one upstream connection), same client', sticky.plain],
    ] as const) {
      out.push(
        `| ${name} | ${int(loop.callsPerSecond)} | ${fixed(loop.gatewayCpuMicrosPerCall, 0)} | ` +
          `${fixed(loop.p50Ms, 2)} / ${fixed(loop.p99Ms, 2)} | ${tally(loop.outcomes)} |`,
      );
    }
  }
  out.push('');

  const store = results.sessionStore;
  out.push('## Session store: Redis against memory, GATEWAY_WORKERS=2 against 1 (own node:http2 client)', '');
  if (store === undefined) out.push('Not run.');
  else if (isFailed(store)) out.push(`Failed: ${oneLine(store.error)}`);
  else {
    const each = (values: readonly number[], digits: number) =>
      values.map((v) => fixed(v, digits)).join(' / ');
    out.push(
      `${store.sessions.toLocaleString('en-US')} sessions on the JWT + sticky route of two fresh gateways, one with the ` +
        'memory store and one with a Redis store (a local redis-server), repetitions alternating. First calls one at a time, ' +
        `alternating between the two gateways. Calls answered by another backend than the session's first: ${store.stickyViolations}.`,
      '',
      '| store | first call p50 / p99 (ms) | bound calls: gateway CPU µs/call per repetition | calls/s per repetition | outcomes |',
      '|---|---:|---:|---:|---|',
    );
    for (const [name, figures] of [
      ['memory', store.memory],
      ['redis', store.redis],
    ] as const) {
      out.push(
        `| ${name} | ${fixed(figures.firstCallP50Ms, 3)} / ${fixed(figures.firstCallP99Ms, 3)} | ` +
          `${each(figures.boundCpuMicrosPerCall, 0)} | ${each(figures.boundCallsPerSecond, 0)} | ${tally(figures.outcomes)} |`,
      );
    }
    out.push(
      '',
      `GATEWAY_WORKERS=2 against 1 (both on the Redis store, bound sessions): ${fixed(store.workers.ratio, 2)}× req/s ` +
        `(per repetition ${each(store.workers.two, 0)} vs ${each(store.workers.one, 0)} calls/s). The load generator shares ` +
        'the same cores, so on a 2-core machine this understates what a second core gives the gateway.',
    );
  }
  out.push('');

  out.push('## Idle concurrent streams', '');
  if (results.idleStreams.length === 0) out.push('Not run.');
  else {
    out.push(
      'Each stream sends one message and stays open once its echo is back; then all are half-closed.',
      '',
      '| target | opened | connections | time to open (s) | proxy RSS before → open (MB) | proxy CPU µs/stream | close (s) | close outcomes |',
      '|---|---:|---:|---:|---:|---:|---:|---|',
    );
    for (const entry of results.idleStreams) {
      if (isFailed(entry)) {
        out.push(`| ${entry.target} | failed: ${oneLine(entry.error, 200)} | | | | | | |`);
        continue;
      }
      out.push(
        `| ${entry.target} | ${entry.opened.toLocaleString('en-US')} of ${entry.requested.toLocaleString('en-US')} | ` +
          `${entry.connections} | ${(entry.openMs / 1000).toFixed(2)} | ${mb(entry.rssBeforeBytes)} → ${mb(entry.rssOpenBytes)} | ` +
          `${fixed(entry.cpuMicrosPerStream, 0)} | ${(entry.closeMs / 1000).toFixed(2)} | ${tally(entry.closeOutcomes)} |`,
      );
    }
  }
  out.push('');

  out.push('## Backend killed under load', '');
  if (results.backendKill.length === 0) out.push('Not run.');
  else {
    out.push(
      'A fresh echo backend per proxy is SIGKILLed while 16 clients call in a closed loop; new calls keep starting ' +
        'for a while after the kill (client deadline per call bounds how long a proxy may hold one).',
      '',
      '| target | OK before kill | after the kill: outcome | calls | answered (ms after kill) | call duration median / max (ms) |',
      '|---|---:|---|---:|---:|---:|',
    );
    for (const entry of results.backendKill) {
      if (isFailed(entry)) {
        out.push(`| ${entry.target} | failed: ${oneLine(entry.error, 200)} | | | | |`);
        continue;
      }
      for (const group of entry.afterKill) {
        out.push(
          `| ${entry.target} | ${entry.okBeforeKill.toLocaleString('en-US')} | ${group.outcome} | ${group.calls.toLocaleString('en-US')} | ` +
            `${group.firstMs.toFixed(1)} – ${group.lastMs.toFixed(1)} | ${group.medianCallMs.toFixed(1)} / ${group.maxCallMs.toFixed(1)} |`,
        );
      }
    }
  }
  out.push('');

  out.push(
    '## Every repetition',
    '',
    '| target | size | req/s per repetition | proxy CPU µs/req per repetition |',
  );
  out.push('|---|---|---|---|');
  for (const target of results.targets) {
    for (const size of SIZES) {
      const runs = target.throughput[size.key];
      out.push(
        `| ${target.id} | ${size.label} | ${runs.map((run) => int(run.requestsPerSecond)).join(', ')} | ` +
          `${runs.map((run) => fixed(run.proxyCpuMicrosPerRequest, 0)).join(', ')} |`,
      );
    }
  }
  out.push('');
  return out.join('\n');
}
