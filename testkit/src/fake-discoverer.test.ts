import { afterEach, describe, expect, it } from 'vitest';
import { listInstances } from './discovered-instance.js';
import { FakeDiscoverer } from './fake-discoverer.js';
import { getFreePort } from './free-port.js';
import { waitFor } from './wait-for.js';

const started: FakeDiscoverer[] = [];
async function track(discoverer: Promise<FakeDiscoverer>): Promise<FakeDiscoverer> {
  started.push(await discoverer);
  return started.at(-1) as FakeDiscoverer;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((discoverer) => discoverer.stop()));
});

const post = (url: string, body?: unknown) =>
  fetch(url, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });

describe('FakeDiscoverer as the registry', () => {
  it('lists its instances, drops an unregistered one and records what it was asked', async () => {
    const discoverer = await track(
      FakeDiscoverer.start({
        instances: [
          { instance_id: 'a', ipv4: '127.0.0.1', port: 1 },
          { instance_id: 'b', ipv4: '127.0.0.1', port: 2 },
        ],
      }),
    );
    expect(await listInstances(discoverer.url)).toHaveLength(2);
    const response = await post(`${discoverer.url}/v1/unregister/a%2F1`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    await post(`${discoverer.url}/v1/unregister/b`);
    discoverer.list({ name: 'c', port: 3 });
    expect(await listInstances(discoverer.url)).toEqual([{ instance_id: 'c', ipv4: '127.0.0.1', port: 3 }]);
    expect(discoverer.unregistered).toEqual(['a/1', 'b']);
    expect(discoverer.listRequests).toBe(2);
    await waitFor(() => discoverer.lists.length === 2, { description: 'both lists recorded' });
    expect(discoverer.hasApplied(0, (list) => list.length === 2)).toBe(true);
    expect(discoverer.describeLast()).toBe('last list served to the gateway: [c@3]');
  });

  it('adds what registers, and answers the status the test asks for', async () => {
    const discoverer = await track(FakeDiscoverer.start());
    const registration = {
      instance_id: 'w',
      service_type: 'grpcserver',
      ipv4: '127.0.0.1',
      port: 7,
      ttl_ms: 1,
    };
    expect((await post(`${discoverer.url}/v1/register`, registration)).status).toBe(200);
    expect(discoverer.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/register',
      body: registration,
    });
    expect(await listInstances(discoverer.url)).toEqual([{ instance_id: 'w', ipv4: '127.0.0.1', port: 7 }]);
    discoverer.respondWith((index) => (index === 2 ? 503 : 204));
    const refused = await post(`${discoverer.url}/v1/register`, registration);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({
      error: { code: 'internal_server_error', message: 'an internal server error has occurred' },
    });
    expect((await post(`${discoverer.url}/v1/register`, registration)).status).toBe(204);
  });

  it('fails or garbles the list on demand, and answers 404 with the error envelope elsewhere', async () => {
    const discoverer = await track(FakeDiscoverer.start());
    discoverer.failWith = 500;
    expect((await fetch(`${discoverer.url}/v1/instances`)).status).toBe(500);
    discoverer.failWith = undefined;
    discoverer.rawBody = 'not json';
    expect(await (await fetch(`${discoverer.url}/v1/instances`)).text()).toBe('not json');
    await waitFor(() => discoverer.failuresSince(0) === 2, { description: 'two failed lists' });
    const response = await fetch(`${discoverer.url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: 'entity_not_found', message: 'Entity not found' },
    });
  });
});

describe('FakeDiscoverer as a relay', () => {
  it('passes everything through to the discoverer and records lists and unregisters', async () => {
    const upstream = await track(FakeDiscoverer.start());
    upstream.list({ name: 'x', port: 9 });
    const relay = await track(FakeDiscoverer.relay(() => upstream.url));
    const since = Date.now();
    expect(await listInstances(relay.url)).toEqual([{ instance_id: 'x', ipv4: '127.0.0.1', port: 9 }]);
    expect((await post(`${relay.url}/v1/unregister/x`)).status).toBe(200);
    expect(upstream.unregistered).toEqual(['x']);
    expect(relay.unregistersOf('x', since)).toHaveLength(1);
    expect(await listInstances(relay.url)).toEqual([]);
    await waitFor(() => relay.lists.length === 2, { description: 'both lists recorded' });
    expect(relay.hasApplied(since, (list) => list.some((i) => i.instance_id === 'x'))).toBe(true);
    expect(relay.hasApplied(since, (list) => list.length === 0)).toBe(false);
  });

  it('drops the connection and counts a failed list while the discoverer is down', async () => {
    const down = `http://127.0.0.1:${await getFreePort()}`;
    const relay = await track(FakeDiscoverer.relay(() => down));
    await expect(fetch(`${relay.url}/v1/instances`)).rejects.toThrow();
    expect(relay.failuresSince(0)).toBe(1);
  });
});
