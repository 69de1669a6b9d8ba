import { FakeDiscoverer, waitFor } from '@stickygw/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HealthCheckConfig, OutlierDetectionConfig } from '../config/types.js';
import { ProbeBackend, type ProbeClient, probeClient } from '../test-support/probe-backend.js';
import {
  PROBE_PREFIX,
  route,
  type StartedGateway,
  sessionMetadata,
  startTestGateway,
  unary,
} from '../test-support/test-gateway.js';

/**
 * Outlier detection, active health checks and drain through a running gateway, with real backends
 * (grpc-js) and a real HTTP discoverer.
 */
describe('ejection and drain of a dynamic cluster', () => {
  let backends: ProbeBackend[];
  let discoverer: FakeDiscoverer;
  let gw: StartedGateway;
  let client: ProbeClient;

  async function startGateway(options: {
    sticky?: boolean;
    outlierDetection?: OutlierDetectionConfig;
    healthCheck?: HealthCheckConfig;
  }) {
    gw = await startTestGateway({
      routes: [route(PROBE_PREFIX, 'workers', options.sticky ? 'session-id' : undefined)],
      clusters: [
        {
          type: 'dynamic',
          id: 'workers',
          discovererUrl: discoverer.url,
          discovererIntervalMs: 100,
          outlierDetection: options.outlierDetection,
          healthCheck: options.healthCheck,
        },
      ],
      retryCount: 3,
      retryTimeoutMs: 500,
    });
    client = probeClient(gw.address);
  }

  beforeEach(async () => {
    backends = await Promise.all(['a', 'b'].map((name) => ProbeBackend.start(name)));
    discoverer = await FakeDiscoverer.start();
    discoverer.list(...backends.map((b) => ({ name: b.name, port: b.port })));
  });

  afterEach(async () => {
    client?.close();
    await gw?.close();
    await Promise.all(backends.map((b) => b.stop()));
    await discoverer.stop();
  });

  const states = () =>
    Object.fromEntries(
      (gw.gateway.instances()[0]?.instances ?? []).map((instance) => [instance.id, instance.state]),
    );

  it('application statuses never count as failures; transport failures do', async () => {
    await startGateway({
      outlierDetection: { consecutiveFailures: 1, baseEjectionMs: 60_000, maxEjectionMs: 60_000 },
    });
    for (let i = 0; i < 20; i++) {
      const answered = await unary(client, { fail_code: 14, fail_message: 'application unavailable' });
      expect(answered.error?.details).toBe('application unavailable');
    }
    expect(states()).toEqual({ a: 'free', b: 'free' });
    expect(discoverer.unregistered).toEqual([]);

    // A transport failure of a: the call moves to b, and a (listed again) stays ejected.
    const a = backends[0] as ProbeBackend;
    await a.stop();
    for (let i = 0; i < 4; i++) expect((await unary(client, {})).reply?.backend).toBe('b');
    await waitFor(() => discoverer.unregistered.includes('a'), { description: 'a unregistered' });
    discoverer.list(...backends.map((b) => ({ name: b.name, port: b.port })));
    await waitFor(() => states().a === 'ejected', {
      description: 'a listed again, ejected',
      timeoutMs: 5000,
    });
    expect(gw.gateway.instances()[0]?.instances.find((i) => i.id === 'a')?.ejectedBy).toBe(
      'outlier_detection',
    );
    for (let i = 0; i < 4; i++) expect((await unary(client, {})).reply?.backend).toBe('b');
  });

  it('an instance that does not serve grpc.health.v1 (UNIMPLEMENTED) fails its checks and gets no calls', async () => {
    await startGateway({
      healthCheck: {
        intervalMs: 50,
        timeoutMs: 500,
        unhealthyThreshold: 2,
        healthyThreshold: 1,
        service: '',
      },
    });
    await waitFor(() => states().a === 'ejected' && states().b === 'ejected', {
      description: 'both ejected by their health checks',
      timeoutMs: 5000,
    });
    const refused = await unary(client, {});
    expect(refused.error?.details).toBe('all instances are busy');
    expect(backends.every((backend) => backend.calls.length === 0)).toBe(true);
  });

  it('drain: the bound session keeps its instance, new sessions go elsewhere, undrain ends it', async () => {
    await startGateway({ sticky: true });
    const first = await unary(client, {}, sessionMetadata('s1'));
    const pod = first.reply?.backend as string;
    const other = pod === 'a' ? 'b' : 'a';
    expect(gw.gateway.drainInstance('workers', pod)).toBe(true);
    expect(gw.gateway.drainInstance('workers', 'nope')).toBe(false);
    expect(gw.gateway.drainInstance('nope', pod)).toBe(false);
    expect(gw.gateway.instances()).toEqual([
      {
        cluster: 'workers',
        instances: expect.arrayContaining([
          {
            id: pod,
            address: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
            state: 'draining',
            sessionId: 's1',
          },
          { id: other, address: expect.stringMatching(/^127\.0\.0\.1:\d+$/), state: 'free' },
        ]),
      },
    ]);
    for (let i = 0; i < 3; i++)
      expect((await unary(client, {}, sessionMetadata('s1'))).reply?.backend).toBe(pod);
    expect((await unary(client, {}, sessionMetadata('s2'))).reply?.backend).toBe(other);
    expect(states()[other]).toBe('bound');
    expect((await unary(client, {}, sessionMetadata('s3'))).error?.details).toBe('all instances are busy');
    expect(gw.gateway.undrainInstance('workers', pod)).toBe(true);
    expect(states()[pod]).toBe('bound');
  });
});
