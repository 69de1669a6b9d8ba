import { compiledPath, DemoStack, isMain, tally } from '../shared/demo-stack.js';
import { callEcho, isFailure } from '../shared/echo-service.js';

export const WEIGHTED_CALLS = 100;

export interface WeightedDemoResult {
  /** Backends answering WEIGHTED_CALLS calls with split stable 80, canary 20. */
  readonly split: Record<string, number>;
}

/** A `type: weighted` cluster over a stable and a canary cluster, 80/20; the split is counted. */
export async function runWeightedDemo(log: (line: string) => void = () => {}): Promise<WeightedDemoResult> {
  const stack = new DemoStack();
  try {
    const stable = await stack.backend('stable');
    const canary = await stack.backend('canary');
    const yaml = [
      'routes:',
      '  - { prefix: /example.v1.Echo/, cluster: echo }',
      'clusters:',
      '  echo:',
      '    type: weighted',
      '    split:',
      '      - { cluster: stable, weight: 80 }',
      '      - { cluster: canary, weight: 20 }',
      `  stable: { type: static, address: "${stable}" }`,
      `  canary: { type: static, address: "${canary}" }`,
    ].join('\n');
    const gateway = await stack.gateway(compiledPath('weighted-cluster/main'), yaml);
    log(`gateway from weighted-cluster/main.ts on ${gateway.address}:\n${yaml}`);
    const client = stack.client(gateway.address);
    const backends: string[] = [];
    for (let i = 0; i < WEIGHTED_CALLS; i++) {
      const outcome = await callEcho(client);
      backends.push(isFailure(outcome) ? `failed: ${outcome.details}` : outcome.backend);
    }
    const split = tally(backends);
    log(`${WEIGHTED_CALLS} calls: ${JSON.stringify(split)}`);
    return { split };
  } finally {
    await stack.close();
  }
}

if (isMain(import.meta.url)) await runWeightedDemo(console.log);
