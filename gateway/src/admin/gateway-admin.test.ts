import { Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscovererClient } from '../cluster/discoverer-client.js';
import { createLogger } from '../observability/logger.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { ProbeBackend, type ProbeClient, probeClient } from '../test-support/probe-backend.js';
import {
  dynamicCluster,
  PROBE_PREFIX,
  type StartedGateway,
  sessionMetadata,
  startTestGateway,
  unary,
} from '../test-support/test-gateway.js';
import { AdminServer } from './admin-server.js';

const TOKEN = 'gateway-admin-token';
const SESSION = 'c0ffee00-aaaa-bbbb-cccc-123456789abc';

/** A real gateway, its admin listener and two real backends: what the admin shows and counts. */
describe('the gateway behind its admin listener', () => {
  const backends: ProbeBackend[] = [];
  let gw: StartedGateway;
  let admin: AdminServer;
  let adminUrl: string;
  let client: ProbeClient;

  beforeAll(async () => {
    backends.push(await ProbeBackend.start('one'), await ProbeBackend.start('two'));
    const discoverer: DiscovererClient = {
      fetchInstances: () =>
        Promise.resolve(
          backends.map((backend) => ({ id: `inst-${backend.name}`, host: '127.0.0.1', port: backend.port })),
        ),
      unregister: () => Promise.resolve(),
    };
    const metrics = new GatewayMetrics({ processMetrics: false });
    gw = await startTestGateway({
      routes: [
        {
          prefix: PROBE_PREFIX,
          cluster: 'workers',
          authorization: 'none',
          balancer: { type: 'sticky_sessions', header: 'session-id' },
        },
      ],
      clusters: [dynamicCluster('workers', 'http://127.0.0.1:1')],
      deps: { createDiscovererClient: () => discoverer, metrics },
    });
    admin = new AdminServer({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      metrics: { contentType: metrics.registry.contentType, text: () => metrics.registry.metrics() },
      view: gw.gateway.view,
      actions: {
        release: (cluster, session) => gw.gateway.releaseSession(cluster, session),
        drain: (cluster, instance) => (gw.gateway.drainInstance(cluster, instance) ? 'done' : 'not_found'),
      },
      logger: createLogger({ level: 'silent' }),
    });
    adminUrl = `http://127.0.0.1:${await admin.listen()}`;
    client = probeClient(gw.address);
  });

  afterAll(async () => {
    client?.close();
    await admin?.close();
    await gw?.close();
    await Promise.all(backends.map((backend) => backend.stop()));
  });

  const get = async (path: string): Promise<unknown> => {
    const answer = await fetch(`${adminUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(answer.status, path).toBe(200);
    return path === '/metrics' ? answer.text() : answer.json();
  };

  it('is ready once listening with the first discovery done', async () => {
    expect(await get('/readyz')).toEqual({
      ready: true,
      failing: [],
      checks: { listening: true, 'discovery:workers': true },
    });
  });

  it('shows a sticky binding a call made, counts it, and releases it', async () => {
    const metadata = sessionMetadata(SESSION);
    const first = await unary(client, { text: 'hello' }, metadata);
    expect(first.status.code).toBe(0);
    const instance = `inst-${first.reply?.backend}`;

    expect(await get('/api/sessions')).toEqual([{ cluster: 'workers', session: SESSION, instance }]);
    const [cluster] = (await get('/api/clusters')) as [{ instances: { id: string; state: string }[] }];
    expect(cluster.instances.map(({ id, state }) => `${id}=${state}`).sort()).toEqual(
      ['inst-one', 'inst-two'].map((id) => `${id}=${id === instance ? 'bound' : 'free'}`),
    );
    expect(await get('/api/stats')).toMatchObject({ stickyBindings: 1, downstreamConnections: 1 });

    const unrouted = await unary(client, {}, new Metadata(), {}, '/somewhere.Else/Secret-abc');
    expect(unrouted.status.code).toBe(12);

    const metrics = (await get('/metrics')) as string;
    const labels = 'grpc_service="probe.v1.Probe",grpc_method="Unary"';
    expect(metrics).toContain(`grpc_server_started_total{${labels}} 1`);
    expect(metrics).toContain(`grpc_server_handled_total{${labels},grpc_code="OK"} 1`);
    expect(metrics).toContain(`grpc_server_handling_seconds_count{${labels}} 1`);
    expect(metrics).toContain(`grpc_server_msg_received_total{${labels}} 1`);
    expect(metrics).toContain(`grpc_server_msg_sent_total{${labels}} 1`);
    expect(metrics).toContain(
      'grpc_server_handled_total{grpc_service="unrouted",grpc_method="unrouted",grpc_code="Unimplemented"} 1',
    );
    expect(metrics).not.toContain('Secret-abc');
    expect(metrics).not.toContain(SESSION);
    expect(metrics).toContain('gateway_upstream_requests_total{cluster="workers"} 1');
    expect(metrics).toContain('gateway_cluster_instances{cluster="workers",state="bound"} 1');
    expect(metrics).toContain('gateway_cluster_instances{cluster="workers",state="free"} 1');
    expect(metrics).toContain('gateway_cluster_instances{cluster="workers",state="ejected"} 0');
    expect(metrics).toContain('gateway_sessions_bound{cluster="workers"} 1');
    expect(metrics).toContain('gateway_downstream_connections 1');

    const release = await fetch(
      `${adminUrl}/api/clusters/workers/sessions/${encodeURIComponent(SESSION)}/release`,
      { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } },
    );
    expect(release.status).toBe(200);
    expect(await get('/api/sessions')).toEqual([]);
    const again = await fetch(
      `${adminUrl}/api/clusters/workers/sessions/${encodeURIComponent(SESSION)}/release`,
      { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } },
    );
    expect(again.status).toBe(404);
    // The released session binds anew on its next call.
    expect((await unary(client, { text: 'again' }, metadata)).status.code).toBe(0);
    expect(await get('/api/sessions')).toHaveLength(1);
  });

  it('drains the free instance: shown draining, counted, and no new session lands on it', async () => {
    const [before] = (await get('/api/clusters')) as [{ instances: { id: string; state: string }[] }];
    const free = before.instances.find((instance) => instance.state === 'free');
    expect(free).toBeDefined();
    const post = (path: string) =>
      fetch(`${adminUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect((await post(`/api/clusters/workers/instances/${free?.id}/drain`)).status).toBe(200);
    expect((await post('/api/clusters/workers/instances/inst-nobody/drain')).status).toBe(404);
    const [after] = (await get('/api/clusters')) as [{ instances: { id: string; state: string }[] }];
    expect(after.instances.find((instance) => instance.id === free?.id)?.state).toBe('draining');
    expect(await get('/metrics')).toContain(
      'gateway_cluster_instances{cluster="workers",state="draining"} 1',
    );
    const metadata = sessionMetadata('admin-test-new-session');
    const refused = await unary(client, { text: 'new' }, metadata);
    expect(refused.status.code).toBe(8);
    expect(gw.gateway.undrainInstance('workers', free?.id ?? '')).toBe(true);
  });
});
