import { DemoStack, isMain, STOCK_GATEWAY } from '../shared/demo-stack.js';
import { type CallFailure, callEcho, type EchoReply } from '../shared/echo-service.js';

export type NewServiceDemoResult = Record<string, EchoReply | CallFailure>;

/**
 * The stock gateway (gateway/dist/main.js, unchanged) with `gateway.yaml` of this folder: the
 * existing Echo service plus a new Inventory service, added by one route and one cluster.
 */
export async function runNewServiceDemo(
  log: (line: string) => void = () => {},
): Promise<NewServiceDemoResult> {
  const stack = new DemoStack();
  try {
    const echo = await stack.backend('echo-1', { service: 'example.v1.Echo' });
    const inventory = await stack.backend('inventory-1', { service: 'inventory.v1.Inventory' });
    const yaml = [
      'default: { action: error }',
      'routes:',
      '  - { prefix: /example.v1.Echo/, cluster: echo }',
      '  # The new service: one route ...',
      '  - { prefix: /inventory.v1.Inventory/, cluster: inventory }',
      'clusters:',
      `  echo: { type: static, address: "${echo}" }`,
      '  # ... and one cluster.',
      `  inventory: { type: static, address: "${inventory}" }`,
    ].join('\n');
    const gateway = await stack.gateway(STOCK_GATEWAY, yaml);
    log(`stock gateway (gateway/dist/main.js) on ${gateway.address}, configuration:\n${yaml}`);
    const client = stack.client(gateway.address);
    const result: NewServiceDemoResult = {
      echo: await callEcho(client, { service: 'example.v1.Echo' }),
      inventory: await callEcho(client, { service: 'inventory.v1.Inventory' }),
      unrouted: await callEcho(client, { service: 'billing.v1.Billing' }),
    };
    for (const [name, outcome] of Object.entries(result)) log(`${name}: ${JSON.stringify(outcome)}`);
    return result;
  } finally {
    await stack.close();
  }
}

if (isMain(import.meta.url)) await runNewServiceDemo(console.log);
