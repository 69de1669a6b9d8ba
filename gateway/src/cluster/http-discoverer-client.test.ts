import { FakeDiscoverer } from '@stickygw/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpDiscovererClient } from './http-discoverer-client.js';

describe('HttpDiscovererClient', () => {
  let discoverer: FakeDiscoverer;
  beforeEach(async () => {
    discoverer = await FakeDiscoverer.start();
  });
  afterEach(() => discoverer.stop());

  it('reads instances, skipping malformed entries', async () => {
    const invalid: number[] = [];
    const client = new HttpDiscovererClient(discoverer.url, {
      onInvalidEntries: (count) => invalid.push(count),
    });
    discoverer.rawBody = JSON.stringify({
      instances: [
        { instance_id: 'a', ipv4: '10.0.0.1', port: 5000, extra: true },
        { instance_id: 'b', ipv4: '10.0.0.2', port: 70000 },
        { instance_id: '..', ipv4: '10.0.0.3', port: 5000 },
        { instance_id: 'c\n', ipv4: '10.0.0.4', port: 5000 },
        { instance_id: 7, ipv4: '10.0.0.5', port: 5000 },
        { instance_id: 'd/e:*', ipv4: '10.0.0.6', port: 1 },
        null,
      ],
    });
    expect(await client.fetchInstances()).toEqual([
      { id: 'a', host: '10.0.0.1', port: 5000 },
      { id: 'd/e:*', host: '10.0.0.6', port: 1 },
    ]);
    expect(invalid).toEqual([5]);
  });

  it('treats 404 as an empty list and other failures as errors', async () => {
    const client = new HttpDiscovererClient(discoverer.url);
    discoverer.failWith = 404;
    expect(await client.fetchInstances()).toEqual([]);
    discoverer.failWith = 500;
    await expect(client.fetchInstances()).rejects.toThrow('discoverer answered HTTP 500');
    discoverer.failWith = undefined;
    discoverer.rawBody = '{"instances":null}';
    await expect(client.fetchInstances()).rejects.toThrow('discoverer response missing instances field');
    discoverer.rawBody = 'not json';
    await expect(client.fetchInstances()).rejects.toThrow('not valid JSON');
    discoverer.rawBody = JSON.stringify({ instances: Array(2000).fill({ instance_id: 'x'.repeat(100) }) });
    await expect(
      new HttpDiscovererClient(discoverer.url, { maxBodyBytes: 1000 }).fetchInstances(),
    ).rejects.toThrow('larger than 1000 bytes');
  });

  it('percent-encodes the id it unregisters', async () => {
    await new HttpDiscovererClient(discoverer.url).unregister('pod/1 ?#');
    expect(discoverer.unregistered).toEqual(['pod/1 ?#']);
  });
});

describe('HttpDiscovererClient with a token', () => {
  let discoverer: FakeDiscoverer;
  beforeEach(async () => {
    discoverer = await FakeDiscoverer.start();
  });
  afterEach(() => discoverer.stop());

  it('sends Authorization: Bearer <token> on list and unregister, and none without a token', async () => {
    await new HttpDiscovererClient(discoverer.url, { token: 'gw-token' }).fetchInstances();
    await new HttpDiscovererClient(discoverer.url, { token: 'gw-token' }).unregister('pod-1');
    await new HttpDiscovererClient(discoverer.url).fetchInstances();
    expect(discoverer.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer gw-token',
      'Bearer gw-token',
      undefined,
    ]);
  });

  it('rejects on 401 and reports it once until a request is accepted again', async () => {
    const refused: string[] = [];
    const client = new HttpDiscovererClient(discoverer.url, {
      token: 'wrong',
      onUnauthorized: (operation) => refused.push(operation),
    });
    let status = 401;
    discoverer.respondWith(() => status);
    await expect(client.fetchInstances()).rejects.toThrow('discoverer refused the token (HTTP 401 on list)');
    await expect(client.fetchInstances()).rejects.toThrow('HTTP 401');
    await expect(client.unregister('pod-1')).rejects.toThrow('HTTP 401 on unregister');
    expect(refused).toEqual(['list']);
    status = 200;
    await client.fetchInstances();
    status = 401;
    await expect(client.unregister('pod-1')).rejects.toThrow('HTTP 401');
    expect(refused).toEqual(['list', 'unregister']);
  });
});
