import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BenchDiscoverer, benchInstances, startBenchDiscoverer } from './bench-discoverer.js';

describe('benchInstances', () => {
  it('names instances in order and spreads them over the ports', () => {
    expect(benchInstances(3, [10, 20])).toEqual([
      { instance_id: 'echo-00000', ipv4: '127.0.0.1', port: 10 },
      { instance_id: 'echo-00001', ipv4: '127.0.0.1', port: 20 },
      { instance_id: 'echo-00002', ipv4: '127.0.0.1', port: 10 },
    ]);
  });
});

describe('startBenchDiscoverer', () => {
  let discoverer: BenchDiscoverer;
  beforeAll(async () => {
    discoverer = await startBenchDiscoverer(benchInstances(2, [5000]));
  });
  afterAll(async () => {
    await discoverer?.close();
  });

  it('lists the instances, then drops an unregistered one', async () => {
    const before = (await (await fetch(`${discoverer.url}/v1/instances`)).json()) as { instances: unknown[] };
    expect(before.instances).toHaveLength(2);
    const response = await fetch(`${discoverer.url}/v1/unregister/echo-00000`, { method: 'POST' });
    expect(response.status).toBe(200);
    const after = (await (await fetch(`${discoverer.url}/v1/instances`)).json()) as {
      instances: { instance_id: string }[];
    };
    expect(after.instances.map((instance) => instance.instance_id)).toEqual(['echo-00001']);
    expect(discoverer.unregistered).toEqual(['echo-00000']);
  });

  it('answers 404 with the error envelope elsewhere', async () => {
    const response = await fetch(`${discoverer.url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: 'entity_not_found', message: 'Entity not found' },
    });
  });
});
