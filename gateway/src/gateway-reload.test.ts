import { type ClientDuplexStream, credentials, status } from '@grpc/grpc-js';
import { ConfigError } from '@stickygw/servicekit';
import { generateTestCertificates, waitFor } from '@stickygw/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from './config/types.js';
import { createLogger } from './observability/logger.js';
import {
  ProbeBackend,
  type ProbeClient,
  type ProbeReply,
  type ProbeRequest,
  probeClient,
} from './test-support/probe-backend.js';
import {
  PROBE_PREFIX,
  route,
  type StartedGateway,
  sessionMetadata,
  startTestGateway,
  staticCluster,
  type TestGatewayOptions,
  testGatewayConfig,
  unary,
} from './test-support/test-gateway.js';

interface Harness {
  readonly gw: StartedGateway;
  readonly client: ProbeClient;
  readonly logs: { level: number; msg: string; [field: string]: unknown }[];
  /** What the next reload loads: a config, or the problems of a broken one. */
  next(options: TestGatewayOptions | readonly string[]): void;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function backend(name: string): Promise<ProbeBackend> {
  const started = await ProbeBackend.start(name);
  cleanups.push(() => started.stop());
  return started;
}

async function harness(options: TestGatewayOptions): Promise<Harness> {
  let upcoming: GatewayConfig | readonly string[] = testGatewayConfig(options);
  const logs: Harness['logs'] = [];
  const gw = await startTestGateway({
    ...options,
    deps: {
      logger: createLogger({ destination: { write: (line: string) => logs.push(JSON.parse(line)) } }),
      reloadConfig: () => {
        if (Array.isArray(upcoming)) throw new ConfigError(upcoming as readonly string[]);
        return upcoming as GatewayConfig;
      },
      ...options.deps,
    },
  });
  cleanups.push(() => gw.close());
  const client = probeClient(gw.address);
  cleanups.push(() => client.close());
  return {
    gw,
    client,
    logs,
    next: (next) => {
      upcoming = Array.isArray(next)
        ? next
        : testGatewayConfig({ ...(next as TestGatewayOptions), shutdownGraceMs: options.shutdownGraceMs });
    },
  };
}

/** One exchange on an open bidi stream: write, wait for the reply. */
function exchange(call: ClientDuplexStream<ProbeRequest, ProbeReply>, text: string): Promise<ProbeReply> {
  return new Promise((resolve, reject) => {
    const onData = (reply: ProbeReply): void => {
      call.off('error', reject);
      resolve(reply);
    };
    call.once('data', onData);
    call.once('error', reject);
    call.write({ text });
  });
}

describe('live reload (Gateway.reload)', () => {
  it('adds a route that answers at once, keeps the unchanged cluster and its connection', async () => {
    const alpha = await backend('alpha');
    const beta = await backend('beta');
    const base = { routes: [route(PROBE_PREFIX, 'a')], clusters: [staticCluster('a', alpha.address)] };
    const h = await harness(base);
    expect((await unary(h.client, {})).reply?.backend).toBe('alpha');
    const connectionsBefore = h.gw.gateway.stats().upstreamConnectionsCreated;

    // A longer prefix takes Unary to the new cluster; the rest of the service stays on a.
    h.next({
      routes: [...base.routes, route(`${PROBE_PREFIX}Unary`, 'b')],
      clusters: [...base.clusters, staticCluster('b', beta.address)],
    });
    const outcome = await h.gw.gateway.reload();
    expect(outcome).toMatchObject({ ok: true, added: ['b'], kept: ['a'], removed: [], changed: [] });

    expect((await unary(h.client, {})).reply?.backend).toBe('beta');
    const streamed = await new Promise<string>((resolve) => {
      const call = h.client.ServerStream?.({ count: 1 }) as NodeJS.EventEmitter;
      call.on('data', (reply: ProbeReply) => resolve(reply.backend));
      call.on('error', () => resolve('error'));
    });
    expect(streamed).toBe('alpha');
    // Cluster a kept its pooled connection: only b's is new.
    expect(h.gw.gateway.stats().upstreamConnectionsCreated).toBe(connectionsBefore + 1);
    expect(h.logs.some((line) => line.msg === 'config reloaded')).toBe(true);
  });

  it('a config that does not load changes nothing, and every problem is logged', async () => {
    const alpha = await backend('alpha');
    const h = await harness({
      routes: [route(PROBE_PREFIX, 'a')],
      clusters: [staticCluster('a', alpha.address)],
    });
    h.next(['cluster a: address is required for static cluster', 'route[1]: prefix must be non-empty']);
    const outcome = await h.gw.gateway.reload();
    expect(outcome).toEqual({
      ok: false,
      problems: ['cluster a: address is required for static cluster', 'route[1]: prefix must be non-empty'],
    });
    const logged = h.logs.map((line) => line.msg).join('\n');
    expect(logged).toContain('config reload refused (2 problem(s)): the running config is unchanged');
    expect(logged).toContain('route[1]: prefix must be non-empty');
    expect((await unary(h.client, {})).reply?.backend).toBe('alpha');
    expect(h.gw.gateway.config.routes).toHaveLength(1);
  });

  it('a bidi stream keeps exchanging messages across 10 reloads', async () => {
    const alpha = await backend('alpha');
    const beta = await backend('beta');
    const base = { routes: [route(PROBE_PREFIX, 'a')], clusters: [staticCluster('a', alpha.address)] };
    const h = await harness(base);
    const call = h.client.Bidi?.() as ClientDuplexStream<ProbeRequest, ProbeReply>;
    expect((await exchange(call, 'first')).text).toBe('first');
    for (let i = 0; i < 10; i++) {
      // Alternately with and without a second route and cluster: the stream's own cluster stays.
      h.next(
        i % 2 === 0
          ? {
              routes: [...base.routes, route('/other.v1.Other/', 'b')],
              clusters: [...base.clusters, staticCluster('b', beta.address)],
            }
          : base,
      );
      expect((await h.gw.gateway.reload()).ok).toBe(true);
      const reply = await exchange(call, `after reload ${i}`);
      expect(reply).toMatchObject({ text: `after reload ${i}`, backend: 'alpha', index: i + 1 });
    }
    call.end();
    await new Promise<void>((resolve) => call.on('status', () => resolve()));
  });

  it('a call in flight finishes on its config; a removed cluster is reset after SHUTDOWN_GRACE_MS', async () => {
    const alpha = await backend('alpha');
    const beta = await backend('beta');
    const h = await harness({
      routes: [route(PROBE_PREFIX, 'a')],
      clusters: [staticCluster('a', alpha.address)],
      shutdownGraceMs: 1500,
    });
    const slow = unary(h.client, { text: 'slow', delay_ms: 300 });
    const stuck = h.client.Bidi?.() as ClientDuplexStream<ProbeRequest, ProbeReply>;
    expect((await exchange(stuck, 'open')).backend).toBe('alpha');
    const ended = new Promise<{ code: number; at: number }>((resolve) =>
      stuck.on('status', (s) => resolve({ code: s.code, at: performance.now() })),
    );
    stuck.on('error', () => undefined);
    await waitFor(() => alpha.calls.length >= 2, { description: 'both calls at the backend' });

    h.next({ routes: [route(PROBE_PREFIX, 'b')], clusters: [staticCluster('b', beta.address)] });
    const reloadedAt = performance.now();
    expect(await h.gw.gateway.reload()).toMatchObject({ ok: true, added: ['b'], removed: ['a'] });
    expect((await unary(h.client, {})).reply?.backend).toBe('beta');
    expect((await slow).reply?.backend).toBe('alpha');
    // The stream to the removed cluster still works within the grace period...
    expect((await exchange(stuck, 'still here')).backend).toBe('alpha');
    // ...and is reset once it is over.
    const end = await ended;
    expect(end.code).not.toBe(status.OK);
    expect(end.at - reloadedAt).toBeGreaterThanOrEqual(1400);
    expect(end.at - reloadedAt).toBeLessThan(10_000);
  });

  it('keeps the sticky bindings of a cluster that remains', async () => {
    const alpha = await backend('alpha');
    const beta = await backend('beta');
    const sticky = [route(PROBE_PREFIX, 'pool', 'session-id')];
    const pool = {
      type: 'dynamic' as const,
      id: 'pool',
      discovererUrl: 'http://127.0.0.1:1',
      discovererIntervalMs: 60_000,
    };
    const instances = [
      { id: 'alpha', host: '127.0.0.1', port: alpha.port },
      { id: 'beta', host: '127.0.0.1', port: beta.port },
    ];
    const h = await harness({
      routes: sticky,
      clusters: [pool],
      deps: {
        createDiscovererClient: () => ({
          fetchInstances: async () => instances,
          unregister: async () => undefined,
        }),
      },
    });
    const first = await unary(h.client, {}, sessionMetadata('s1'));
    expect(first.error).toBeUndefined();
    const bindings = h.gw.gateway.stats().stickyBindings;
    expect(bindings).toBe(1);
    h.next({ routes: [...sticky, route('/other.v1.Other/', 'pool')], clusters: [pool] });
    expect(await h.gw.gateway.reload()).toMatchObject({ ok: true, kept: ['pool'] });
    expect(h.gw.gateway.stats().stickyBindings).toBe(1);
    const again = await unary(h.client, {}, sessionMetadata('s1'));
    expect(again.reply?.backend).toBe(first.reply?.backend);
  });

  it('loses no call while reloading under load (300 calls in flight, 5 reloads)', async () => {
    const alpha = await backend('alpha');
    const beta = await backend('beta');
    const base = { routes: [route(PROBE_PREFIX, 'a')], clusters: [staticCluster('a', alpha.address)] };
    const h = await harness(base);
    const calls = Array.from({ length: 300 }, (_, i) =>
      unary(h.client, { text: `call ${i}`, delay_ms: 50 + (i % 10) * 20 }),
    );
    for (let i = 0; i < 5; i++) {
      h.next(
        i % 2 === 0
          ? {
              routes: [...base.routes, route('/other.v1.Other/', 'b')],
              clusters: [...base.clusters, staticCluster('b', beta.address)],
            }
          : base,
      );
      expect((await h.gw.gateway.reload()).ok).toBe(true);
    }
    const outcomes = await Promise.all(calls);
    const failed = outcomes.filter((outcome) => outcome.error !== undefined);
    expect(failed.map((outcome) => outcome.status.details)).toEqual([]);
    expect(outcomes.map((outcome) => outcome.reply?.text)).toEqual(calls.map((_, i) => `call ${i}`));
  });

  it('reloads the listener certificate without dropping open connections', async () => {
    const certs = generateTestCertificates();
    cleanups.push(() => certs.remove());
    const alpha = await backend('alpha');
    const tls = (leaf: typeof certs.server) => ({
      certFile: leaf.certFile,
      cert: leaf.cert,
      keyFile: leaf.keyFile,
      key: leaf.key,
    });
    const base = {
      routes: [route(PROBE_PREFIX, 'a')],
      clusters: [staticCluster('a', alpha.address)],
      tls: tls(certs.server),
    };
    const h = await harness(base);
    const secure = (): ProbeClient => {
      const client = probeClient(
        h.gw.address,
        { 'grpc.ssl_target_name_override': 'localhost' },
        credentials.createSsl(Buffer.from(certs.ca.cert)),
      );
      cleanups.push(() => client.close());
      return client;
    };
    const before = secure();
    expect((await unary(before, {})).error).toBeUndefined();
    const renewed = certs.issue('renewed-server', ['localhost', '127.0.0.1']);
    h.next({ ...base, tls: tls(renewed) });
    expect((await h.gw.gateway.reload()).ok).toBe(true);
    expect(h.gw.gateway.stats().downstreamConnections).toBe(1);
    expect((await unary(before, {})).error).toBeUndefined();
    expect(h.gw.gateway.stats().downstreamConnections).toBe(1);

    const { connect } = await import('node:tls');
    const serial = await new Promise<string>((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port: h.gw.port,
        ca: certs.ca.cert,
        servername: 'localhost',
        ALPNProtocols: ['h2'],
      });
      socket.on('secureConnect', () => {
        resolve(socket.getPeerCertificate().serialNumber);
        socket.destroy();
      });
      socket.on('error', reject);
    });
    const { X509Certificate } = await import('node:crypto');
    expect(serial).toBe(new X509Certificate(renewed.cert).serialNumber);
    expect((await unary(secure(), {})).error).toBeUndefined();
  });
});
