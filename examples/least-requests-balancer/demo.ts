import { FakeDiscoverer } from '@stickygw/testkit';
import { compiledPath, DemoStack, isMain, STOCK_GATEWAY } from '../shared/demo-stack.js';
import { callEcho, type EchoReply, isFailure } from '../shared/echo-service.js';

const CALLS = 40;
const LONG_MS = 600;
const SHORT_MS = 5;
const GAP_MS = 15;

/** Per backend: calls served, long calls served, and the most calls it had in flight at once. */
export interface LoadSpread {
  readonly calls: Record<string, number>;
  readonly longCalls: Record<string, number>;
  readonly peakInFlight: Record<string, number>;
  readonly failures: number;
}

export interface LeastRequestsDemoResult {
  readonly roundRobin: LoadSpread;
  readonly leastRequests: LoadSpread;
}

/**
 * One call every GAP_MS, long and short alternating: round robin sends every long call to the same
 * backend, whose calls pile up; least requests sends each call where fewer are running.
 */
async function measure(stack: DemoStack, address: string): Promise<LoadSpread> {
  const client = stack.client(address);
  const pending: Promise<{ reply: EchoReply | undefined; long: boolean }>[] = [];
  for (let i = 0; i < CALLS; i++) {
    const long = i % 2 === 0;
    pending.push(
      callEcho(client, { request: { sleepMs: long ? LONG_MS : SHORT_MS, reportLoad: true } }).then(
        (outcome) => ({
          reply: isFailure(outcome) ? undefined : outcome,
          long,
        }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, GAP_MS));
  }
  const spread = { calls: {}, longCalls: {}, peakInFlight: {}, failures: 0 } as {
    calls: Record<string, number>;
    longCalls: Record<string, number>;
    peakInFlight: Record<string, number>;
    failures: number;
  };
  for (const { reply, long } of await Promise.all(pending)) {
    if (reply === undefined) {
      spread.failures++;
      continue;
    }
    spread.calls[reply.backend] = (spread.calls[reply.backend] ?? 0) + 1;
    if (long) spread.longCalls[reply.backend] = (spread.longCalls[reply.backend] ?? 0) + 1;
    spread.peakInFlight[reply.backend] = Math.max(
      spread.peakInFlight[reply.backend] ?? 0,
      reply.inFlight ?? 0,
    );
  }
  return spread;
}

/** The same uneven load through the stock gateway (round robin) and this example's gateway. */
export async function runLeastRequestsDemo(
  log: (line: string) => void = () => {},
): Promise<LeastRequestsDemoResult> {
  const stack = new DemoStack();
  const discoverer = await FakeDiscoverer.start();
  try {
    const backends = [await stack.backend('b1'), await stack.backend('b2')];
    discoverer.list(
      ...backends.map((address, i) => ({ name: `b${i + 1}`, port: Number(address.split(':')[1]) })),
    );
    const yaml = [
      'routes:',
      '  - { prefix: /example.v1.Echo/, cluster: echo, balancer: { type: round_robin } }',
      'clusters:',
      `  echo: { type: dynamic, discoverer_url: "${discoverer.url}", discoverer_interval_ms: 60000 }`,
    ].join('\n');
    const stock = await stack.gateway(STOCK_GATEWAY, yaml);
    const roundRobin = await measure(stack, stock.address);
    log(`round robin (stock gateway): ${JSON.stringify(roundRobin)}`);
    const example = await stack.gateway(compiledPath('least-requests-balancer/main'), yaml);
    const leastRequests = await measure(stack, example.address);
    log(`least requests (least-requests-balancer/main.ts): ${JSON.stringify(leastRequests)}`);
    return { roundRobin, leastRequests };
  } finally {
    await stack.close();
    await discoverer.stop();
  }
}

if (isMain(import.meta.url)) await runLeastRequestsDemo(console.log);
