import type * as grpc from '@grpc/grpc-js';
import { waitFor } from '@stickygw/testkit';
import { compiledPath, DemoStack, isMain, tally } from '../shared/demo-stack.js';
import { callEcho, type EchoReply, isFailure } from '../shared/echo-service.js';

export interface FileDiscoveryDemoResult {
  /** Backends answering 20 calls with the first file (b1, b2). */
  readonly before: Record<string, number>;
  /** Backends answering 20 calls once the edit (b2, b3) was seen. */
  readonly after: Record<string, number>;
  /** How long the gateway took to notice the edit. */
  readonly noticedAfterMs: number;
}

async function spread(client: grpc.Client, calls: number): Promise<Record<string, number>> {
  const backends: string[] = [];
  for (let i = 0; i < calls; i++) {
    const outcome = await callEcho(client);
    backends.push(isFailure(outcome) ? `failed: ${outcome.details}` : (outcome as EchoReply).backend);
  }
  return tally(backends);
}

const instances = (entries: ReadonlyArray<readonly [string, string]>): string =>
  JSON.stringify(
    entries.map(([id, address]) => {
      const [host, port] = address.split(':');
      return { id, host, port: Number(port) };
    }),
    null,
    2,
  );

/** A `type: file` cluster: calls spread over the file's instances, then the file is edited. */
export async function runFileDiscoveryDemo(
  log: (line: string) => void = () => {},
): Promise<FileDiscoveryDemoResult> {
  const stack = new DemoStack();
  try {
    const [b1, b2, b3] = [await stack.backend('b1'), await stack.backend('b2'), await stack.backend('b3')];
    const file = stack.file(
      'instances.json',
      instances([
        ['b1', b1],
        ['b2', b2],
      ]),
    );
    const gateway = await stack.gateway(
      compiledPath('static-file-discovery/main'),
      [
        'routes:',
        '  - { prefix: /example.v1.Echo/, cluster: echo }',
        'clusters:',
        '  echo: { type: file, path: instances.json, refresh_interval_ms: 200 }',
      ].join('\n'),
    );
    log(`gateway from static-file-discovery/main.ts on ${gateway.address}, instances in ${file}`);
    const client = stack.client(gateway.address);
    const before = await spread(client, 20);
    log(`with b1, b2 listed: ${JSON.stringify(before)}`);
    const editedAt = Date.now();
    stack.file(
      'instances.json',
      instances([
        ['b2', b2],
        ['b3', b3],
      ]),
    );
    await waitFor(
      async () => {
        const seen = await spread(client, 4);
        return seen.b3 !== undefined && seen.b1 === undefined;
      },
      { description: 'the gateway to pick up the edited file', timeoutMs: 20_000 },
    );
    const noticedAfterMs = Date.now() - editedAt;
    const after = await spread(client, 20);
    log(`edited to b2, b3 (seen after ${noticedAfterMs} ms): ${JSON.stringify(after)}`);
    return { before, after, noticedAfterMs };
  } finally {
    await stack.close();
  }
}

if (isMain(import.meta.url)) await runFileDiscoveryDemo(console.log);
