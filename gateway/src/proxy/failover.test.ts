import type { ClientDuplexStream, ClientReadableStream } from '@grpc/grpc-js';
import { FakeDiscoverer, waitFor } from '@stickygw/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ProbeBackend,
  type ProbeClient,
  type ProbeReply,
  type ProbeRequest,
  probeClient,
} from '../test-support/probe-backend.js';
import {
  collect,
  dynamicCluster,
  PROBE_PREFIX,
  route,
  type StartedGateway,
  sessionMetadata,
  startTestGateway,
  unary,
} from '../test-support/test-gateway.js';

/**
 * Dynamic cluster behaviour with real backends and a real HTTP discoverer: exclusive sticky
 * sessions, failure handling (eject, unbind, unregister), retries, and session transfer.
 */
describe('dynamic cluster: sticky sessions, failures, retries and transfer', () => {
  let backends: ProbeBackend[];
  let discoverer: FakeDiscoverer;
  let gw: StartedGateway;
  let client: ProbeClient;

  async function startGateway(
    options: { intervalMs?: number; retryCount?: number; maxReplay?: number; roundRobin?: boolean } = {},
  ) {
    gw = await startTestGateway({
      routes: [route(PROBE_PREFIX, 'workers', options.roundRobin ? undefined : 'session-id')],
      clusters: [dynamicCluster('workers', discoverer.url, options.intervalMs ?? 60_000)],
      retryCount: options.retryCount ?? 3,
      retryTimeoutMs: 500,
      maxReplayBufferBytes: options.maxReplay ?? 1024 * 1024,
    });
    client = probeClient(gw.address);
  }

  beforeEach(async () => {
    backends = await Promise.all(['a', 'b', 'c'].map((name) => ProbeBackend.start(name)));
    discoverer = await FakeDiscoverer.start();
    discoverer.list(...backends.map((b) => ({ name: b.name, port: b.port })));
  });

  afterEach(async () => {
    client?.close();
    await gw?.close();
    await Promise.all(backends.map((b) => b.stop()));
    await discoverer.stop();
  });

  const backendNamed = (name: string): ProbeBackend => backends.find((b) => b.name === name) as ProbeBackend;

  it('binds each session to its own instance; the (N+1)-th gets RESOURCE_EXHAUSTED', async () => {
    await startGateway();
    const pods = [];
    for (const id of ['s1', 's2', 's3']) {
      const first = await unary(client, { text: id }, sessionMetadata(id));
      for (let i = 0; i < 3; i++) {
        expect((await unary(client, { text: id }, sessionMetadata(id))).reply?.backend).toBe(
          first.reply?.backend,
        );
      }
      pods.push(first.reply?.backend);
    }
    expect(new Set(pods).size).toBe(3);
    const fourth = await unary(client, {}, sessionMetadata('s4'));
    expect(fourth.error?.code).toBe(8);
    expect(fourth.error?.details).toBe('all instances are busy');
    const missing = await unary(client, {});
    expect(missing.error?.code).toBe(16);
    expect(missing.error?.details).toBe('missing or invalid token');
    expect(gw.gateway.stats().stickyBindings).toBe(3);
  });

  it('relays an upstream status as an answer: no unbinding, no retry, no unregister (REFERENCE.md 8.6)', async () => {
    await startGateway();
    const first = await unary(client, {}, sessionMetadata('s1'));
    const denied = await unary(
      client,
      { fail_code: 7, fail_message: 'Server session is not set' },
      sessionMetadata('s1'),
    );
    expect(denied.error?.code).toBe(7);
    expect(denied.error?.details).toBe('Server session is not set');
    const again = await unary(client, {}, sessionMetadata('s1'));
    expect(again.reply?.backend).toBe(first.reply?.backend);
    expect(discoverer.unregistered).toEqual([]);
    const unavailable = await unary(client, { fail_code: 14, fail_message: 'mine' }, sessionMetadata('s1'));
    expect(unavailable.error?.details).toBe('mine');
    expect(backendNamed(first.reply?.backend as string).calls.length).toBe(4);
  });

  it('round-robins a route without stickiness over the instances', async () => {
    await startGateway({ roundRobin: true });
    const served = [];
    for (let i = 0; i < 6; i++) served.push((await unary(client, {})).reply?.backend);
    expect(new Set(served.slice(0, 3)).size).toBe(3);
    expect(served.slice(3)).toEqual(served.slice(0, 3));
    expect(gw.gateway.stats().stickyBindings).toBe(0);
  });

  it('transfers a unary call whose instance dies mid-call, and ejects and unregisters it', async () => {
    await startGateway();
    const bound = (await unary(client, {}, sessionMetadata('s1'))).reply?.backend as string;
    const connectionsBefore = gw.gateway.stats().upstreamConnectionsCreated;
    const pending = unary(client, { text: 'slow', delay_ms: 400 }, sessionMetadata('s1'));
    const victim = backendNamed(bound);
    await waitFor(() => victim.calls.length === 2, { description: 'the slow call to reach its instance' });
    victim.kill();
    const outcome = await pending;
    expect(outcome.error).toBeUndefined();
    expect(outcome.reply?.text).toBe('slow');
    expect(outcome.reply?.backend).not.toBe(bound);
    await waitFor(() => discoverer.unregistered.includes(bound), { description: 'the unregister POST' });
    // One new upstream connection to the instance that took over, none to the dead one.
    expect(gw.gateway.stats().upstreamConnectionsCreated).toBe(connectionsBefore + 1);
    const next = await unary(client, {}, sessionMetadata('s1'));
    expect(next.reply?.backend).toBe(outcome.reply?.backend);
  });

  it('continues a server stream on another instance after its instance dies', async () => {
    await startGateway();
    const call = client.ServerStream?.(
      { text: 'sub', count: 0, interval_ms: 30 },
      sessionMetadata('s1'),
    ) as ClientReadableStream<ProbeReply>;
    let victim: string | undefined;
    let killedAt = -1;
    const outcome = collect(call, (message, index) => {
      victim ??= message.backend;
      if (index === 2) {
        killedAt = index;
        backendNamed(victim).kill();
      }
      if (killedAt >= 0 && message.backend !== victim && index >= killedAt + 3) call.cancel();
    });
    const result = await outcome;
    expect(result.status.code).toBe(1);
    const after = result.messages.slice(killedAt + 1);
    expect(after.length).toBeGreaterThanOrEqual(3);
    for (const message of after) expect(message.backend).not.toBe(victim);
    // The new instance starts over (no resume position), as the reference.
    expect(after[0]?.index).toBe(0);
    expect(after[0]?.text).toBe('sub');
    // The unregister follows a check of the registry, in the background.
    await waitFor(() => discoverer.unregistered.length > 0, { description: 'the unregister POST' });
    expect(discoverer.unregistered).toEqual([victim]);
  });

  it('transfers a bidi call that has no response yet, replaying every message sent so far', async () => {
    await startGateway();
    const call = client.Bidi?.(sessionMetadata('s1')) as ClientDuplexStream<ProbeRequest, ProbeReply>;
    const replies: ProbeReply[] = [];
    const done = collect(call, (message) => replies.push(message));
    call.write({ text: 'm1', hold: true });
    call.write({ text: 'm2', hold: true });
    const first = await waitFor(() => backends.find((b) => b.calls.some((c) => c.method === 'Bidi')), {
      description: 'the bidi call to reach an instance',
    });
    await new Promise((resolve) => setImmediate(resolve));
    first.kill();
    call.write({ text: 'm3' });
    await waitFor(() => replies.length === 1, { description: 'the reply to m3' });
    expect(replies[0]?.backend).not.toBe(first.name);
    // The new instance saw m1 and m2 replayed before m3.
    expect(replies[0]).toMatchObject({ text: 'm3', index: 2, received: 3 });
    call.end();
    expect((await done).status.code).toBe(0);
  });

  it('fails a bidi call with UNAVAILABLE once responses reached the client', async () => {
    await startGateway();
    const call = client.Bidi?.(sessionMetadata('s1')) as ClientDuplexStream<ProbeRequest, ProbeReply>;
    const replies: ProbeReply[] = [];
    const done = collect(call, (message) => replies.push(message));
    call.write({ text: 'm1' });
    call.write({ text: 'm2' });
    await waitFor(() => replies.length === 2, { description: 'two replies' });
    backendNamed(replies[0]?.backend as string).kill();
    const outcome = await done;
    expect(outcome.status.code).toBe(14);
    expect(outcome.status.details).toBe('backend service unavailable');
    // The unregister follows a check of the registry, in the background.
    await waitFor(() => discoverer.unregistered.length > 0, { description: 'the unregister POST' });
    expect(discoverer.unregistered).toEqual([replies[0]?.backend]);
  });

  it('fails a client stream over MAX_REPLAY_BUFFER_BYTES instead of replaying a partial request', async () => {
    await startGateway({ maxReplay: 1000 });
    const call = client.Bidi?.(sessionMetadata('s1')) as ClientDuplexStream<ProbeRequest, ProbeReply>;
    const done = collect(call);
    for (let i = 0; i < 3; i++) call.write({ text: `m${i}`, payload: Buffer.alloc(600), hold: true });
    const first = await waitFor(() => backends.find((b) => b.calls.some((c) => c.method === 'Bidi')), {
      description: 'the bidi call to reach an instance',
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    first.kill();
    const outcome = await done;
    expect(outcome.status.code).toBe(14);
    expect(outcome.status.details).toBe('backend service unavailable');
  });

  it('answers UNAVAILABLE after RETRY_COUNT dead instances, unregistering each', async () => {
    await startGateway();
    for (const backend of backends) backend.kill();
    const outcome = await unary(client, {}, sessionMetadata('s1'));
    expect(outcome.error?.code).toBe(14);
    expect(outcome.error?.details).toBe('backend service unavailable');
    await waitFor(() => discoverer.unregistered.length === 3, { description: 'three unregister POSTs' });
    expect([...discoverer.unregistered].sort()).toEqual(['a', 'b', 'c']);
  });

  it('prefers UNAVAILABLE over RESOURCE_EXHAUSTED when candidates run out after a transport failure', async () => {
    await startGateway({ retryCount: 5 });
    backendNamed('a').kill();
    backendNamed('b').kill();
    // c is busy with another session; a and b are dead: the call fails on both, then finds no free instance.
    await waitFor(async () => (await unary(client, {}, sessionMetadata('owner'))).reply?.backend === 'c', {
      description: 'c to be bound to another session',
    });
    const outcome = await unary(client, {}, sessionMetadata('s1'));
    expect(outcome.error?.code).toBe(14);
    expect(outcome.error?.details).toBe('backend service unavailable');
  });

  it('answers RESOURCE_EXHAUSTED for an empty instance list (200 [] or 404)', async () => {
    discoverer.instances = [];
    await startGateway();
    const empty = await unary(client, {}, sessionMetadata('s1'));
    expect(empty.error?.code).toBe(8);
    expect(empty.error?.details).toBe('all instances are busy');
  });

  it('keeps the last good list while the discoverer fails, and follows it again after', async () => {
    await startGateway({ intervalMs: 50 });
    expect((await unary(client, {}, sessionMetadata('s1'))).error).toBeUndefined();
    discoverer.failWith = 500;
    const seen = discoverer.listRequests;
    await waitFor(() => discoverer.listRequests >= seen + 3, { description: 'failed refreshes' });
    expect((await unary(client, {}, sessionMetadata('s2'))).error).toBeUndefined();
    discoverer.rawBody = '{"not":"instances"}';
    discoverer.failWith = undefined;
    const seen2 = discoverer.listRequests;
    await waitFor(() => discoverer.listRequests >= seen2 + 2, { description: 'malformed refreshes' });
    expect((await unary(client, {}, sessionMetadata('s3'))).error).toBeUndefined();
    // Recovery: the list shrinks to one new instance. s1-s3 keep their (vanished, bound) instances,
    // and z is free for a new session.
    discoverer.rawBody = undefined;
    discoverer.list({ name: 'z', port: backendNamed('a').port });
    await waitFor(
      async () => (await unary(client, {}, sessionMetadata('s9'))).reply !== undefined || undefined,
      {
        description: 'the new list to apply',
      },
    );
    expect(gw.gateway.stats().stickyBindings).toBe(4);
  });

  it('keeps a bound session on its instance when that instance vanishes from discovery', async () => {
    // A registry that forgets a live instance (Redis restarted empty, heartbeats late) must not move
    // its session: the instance still holds the session, and any other instance may hold another
    // one (a worker answers it INTERNAL "Session conflict" for good).
    await startGateway({ intervalMs: 50 });
    const bound = (await unary(client, {}, sessionMetadata('s1'))).reply?.backend as string;
    const others = backends.filter((b) => b.name !== bound);
    discoverer.list();
    const seen = discoverer.listRequests;
    await waitFor(() => discoverer.listRequests >= seen + 2, { description: 'the empty list to apply' });
    expect((await unary(client, {}, sessionMetadata('s1'))).reply?.backend).toBe(bound);
    expect((await unary(client, {}, sessionMetadata('s2'))).error?.details).toBe('all instances are busy');

    discoverer.list(...others.map((b) => ({ name: b.name, port: b.port })));
    const seen2 = discoverer.listRequests;
    await waitFor(() => discoverer.listRequests >= seen2 + 2, { description: 'the partial list to apply' });
    expect((await unary(client, {}, sessionMetadata('s1'))).reply?.backend).toBe(bound);
    // New sessions only get listed instances.
    const s2 = (await unary(client, {}, sessionMetadata('s2'))).reply?.backend;
    const s3 = (await unary(client, {}, sessionMetadata('s3'))).reply?.backend;
    expect(new Set([s2, s3])).toEqual(new Set(others.map((b) => b.name)));
    expect((await unary(client, {}, sessionMetadata('s4'))).error?.details).toBe('all instances are busy');

    discoverer.list(...backends.map((b) => ({ name: b.name, port: b.port })));
    const seen3 = discoverer.listRequests;
    await waitFor(() => discoverer.listRequests >= seen3 + 2, { description: 'the full list to apply' });
    expect((await unary(client, {}, sessionMetadata('s1'))).reply?.backend).toBe(bound);
    expect(discoverer.unregistered).toEqual([]);
  });

  it('moves a session off a vanished instance once that instance fails, and drops unbound vanished ones', async () => {
    await startGateway({ intervalMs: 50 });
    const bound = (await unary(client, {}, sessionMetadata('s1'))).reply?.backend as string;
    const [kept, dropped] = backends.filter((b) => b.name !== bound);
    discoverer.list({ name: (kept as ProbeBackend).name, port: (kept as ProbeBackend).port });
    const seen = discoverer.listRequests;
    await waitFor(() => discoverer.listRequests >= seen + 2, { description: 'the shorter list to apply' });
    // The unbound vanished instance is gone: only the listed one is free.
    expect((await unary(client, {}, sessionMetadata('s2'))).reply?.backend).toBe(kept?.name);
    expect((await unary(client, {}, sessionMetadata('s3'))).error?.details).toBe('all instances are busy');
    expect(dropped).toBeDefined();

    backendNamed(bound).kill();
    const moved = await unary(client, {}, sessionMetadata('s1'));
    // Its only other candidate is taken by s2: the transport failure then answers UNAVAILABLE.
    expect(moved.error?.code).toBe(14);
    // The unregister follows a check of the registry, in the background.
    await waitFor(() => discoverer.unregistered.length > 0, { description: 'the unregister POST' });
    expect(discoverer.unregistered).toEqual([bound]);
    expect(gw.gateway.stats().stickyBindings).toBe(1);
  });

  it('does not eject an instance whose idle connection merely closed (restart on the same port)', async () => {
    await startGateway();
    const bound = (await unary(client, {}, sessionMetadata('s1'))).reply?.backend as string;
    const old = backendNamed(bound);
    old.kill();
    const restarted = await ProbeBackend.start(bound, old.port);
    backends[backends.indexOf(old)] = restarted;
    // The pooled connection dropped while idle; the next call reconnects to the same instance.
    await waitFor(
      async () => (await unary(client, {}, sessionMetadata('s1'))).reply?.backend === bound || undefined,
      { description: 'the call to reach the restarted instance' },
    );
    expect(discoverer.unregistered).toEqual([]);
  });

  it('does not treat client cancellation as a backend failure', async () => {
    await startGateway();
    const call = client.ServerStream?.(
      { count: 0, interval_ms: 20 },
      sessionMetadata('s1'),
    ) as ClientReadableStream<ProbeReply>;
    const first = await new Promise<ProbeReply>((resolve) => call.once('data', resolve));
    call.on('error', () => undefined);
    call.cancel();
    await waitFor(() => backendNamed(first.backend).cancellations === 1, {
      description: 'the cancel upstream',
    });
    const next = await unary(client, {}, sessionMetadata('s1'));
    expect(next.reply?.backend).toBe(first.backend);
    expect(discoverer.unregistered).toEqual([]);
  });
});

describe('static cluster: no failover', () => {
  it('answers UNAVAILABLE when the backend dies mid-call, without another attempt', async () => {
    const backend = await ProbeBackend.start('only');
    const gw = await startTestGateway({
      routes: [route(PROBE_PREFIX, 'fixed')],
      clusters: [{ type: 'static', id: 'fixed', address: backend.address }],
    });
    const client = probeClient(gw.address);
    try {
      const call = client.ServerStream?.({ count: 0, interval_ms: 20 }) as ClientReadableStream<ProbeReply>;
      const outcome = collect(call, (_, index) => {
        if (index === 1) backend.kill();
      });
      const result = await outcome;
      expect(result.status.code).toBe(14);
      expect(result.status.details).toBe('backend service unavailable');
      expect(gw.gateway.stats().upstreamConnectionsCreated).toBe(1);
    } finally {
      client.close();
      await gw.close();
      await backend.stop();
    }
  });
});
