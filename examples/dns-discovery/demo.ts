import type * as grpc from '@grpc/grpc-js';
import { getFreePort, waitFor } from '@stickygw/testkit';
import { compiledPath, DemoStack, isMain, tally } from '../shared/demo-stack.js';
import { callEcho, isFailure } from '../shared/echo-service.js';
import { TinyDnsServer } from './tiny-dns-server.js';

const NAME = 'echo.example.internal';

export interface DnsDiscoveryDemoResult {
  /** Backends answering 20 calls while the name has two A records. */
  readonly twoRecords: Record<string, number>;
  /** Backends answering 20 calls once the name has one record. */
  readonly oneRecord: Record<string, number>;
  /** Queries the DNS server answered. */
  readonly dnsQueries: number;
}

async function spread(client: grpc.Client, calls: number): Promise<Record<string, number>> {
  const backends: string[] = [];
  for (let i = 0; i < calls; i++) {
    const outcome = await callEcho(client);
    backends.push(isFailure(outcome) ? `failed: ${outcome.details}` : outcome.backend);
  }
  return tally(backends);
}

/**
 * A `type: dns` cluster resolving through a DNS server of the demo's own: backends on 127.0.0.1
 * and 127.0.0.2 (both loopback) at one port, then the name loses one record.
 */
export async function runDnsDiscoveryDemo(
  log: (line: string) => void = () => {},
): Promise<DnsDiscoveryDemoResult> {
  const stack = new DemoStack();
  const dns = new TinyDnsServer();
  try {
    const port = await getFreePort();
    await stack.backend('at-127.0.0.1', { host: '127.0.0.1', port });
    await stack.backend('at-127.0.0.2', { host: '127.0.0.2', port });
    dns.setRecords(NAME, ['127.0.0.1', '127.0.0.2']);
    const resolver = await dns.listen();
    const gateway = await stack.gateway(
      compiledPath('dns-discovery/main'),
      [
        'routes:',
        '  - { prefix: /example.v1.Echo/, cluster: echo }',
        'clusters:',
        '  echo:',
        '    type: dns',
        `    name: ${NAME}`,
        `    port: ${port}`,
        `    resolvers: ["${resolver}"]`,
        '    refresh_interval_ms: 200',
      ].join('\n'),
    );
    log(`gateway from dns-discovery/main.ts on ${gateway.address}, resolving ${NAME} at ${resolver}`);
    const client = stack.client(gateway.address);
    const twoRecords = await spread(client, 20);
    log(`A records 127.0.0.1, 127.0.0.2: ${JSON.stringify(twoRecords)}`);
    dns.setRecords(NAME, ['127.0.0.2']);
    await waitFor(async () => (await spread(client, 4))['at-127.0.0.1'] === undefined, {
      description: 'the gateway to drop the removed A record',
      timeoutMs: 20_000,
    });
    const oneRecord = await spread(client, 20);
    log(`A record 127.0.0.2 only: ${JSON.stringify(oneRecord)}; ${dns.queries} DNS queries answered`);
    return { twoRecords, oneRecord, dnsQueries: dns.queries };
  } finally {
    await stack.close();
    await dns.close();
  }
}

if (isMain(import.meta.url)) await runDnsDiscoveryDemo(console.log);
