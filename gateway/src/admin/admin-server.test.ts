import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { AdminServer } from './admin-server.js';
import type { AdminActions, AdminView, ReadinessReport } from './admin-view.js';

const TOKEN = 'admin-test-token';

interface Recorded {
  readonly calls: string[];
}

function fakeView(readiness: ReadinessReport): AdminView {
  return {
    routes: () => [
      { prefix: '/a.A/', cluster: 'workers', balancer: 'sticky_sessions', authorization: 'none' },
    ],
    clusters: () => [
      {
        id: 'workers',
        type: 'dynamic',
        discovered: true,
        instances: [{ id: 'w-1', address: '127.0.0.1:1', state: 'bound', session: 'session-1' }],
      },
    ],
    sessions: () => [{ cluster: 'workers', session: 'session-1', instance: 'w-1' }],
    stats: () => ({
      downstreamConnections: 1,
      activeStreams: 0,
      stickyBindings: 1,
      upstreamConnectionsCreated: 2,
    }),
    readiness: () => readiness,
  };
}

const servers: AdminServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options: {
  token?: string;
  actions?: Partial<AdminActions>;
  readiness?: ReadinessReport;
}): Promise<{ url: string; recorded: Recorded }> {
  const recorded: Recorded = { calls: [] };
  const server = new AdminServer({
    host: '127.0.0.1',
    port: 0,
    token: options.token,
    metrics: {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      text: async () => 'metric_total 1\n',
    },
    view: fakeView(options.readiness ?? { ready: true, checks: { listening: true } }),
    actions: {
      release: (cluster, session) => {
        recorded.calls.push(`release ${cluster} ${session}`);
        return session === 'session-1' ? 'done' : 'not_found';
      },
      ...options.actions,
    },
    logger: createLogger({ level: 'silent' }),
  });
  servers.push(server);
  const port = await server.listen();
  return { url: `http://127.0.0.1:${port}`, recorded };
}

function bearer(token: string): RequestInit {
  return { headers: { authorization: `Bearer ${token}` } };
}

describe('AdminServer', () => {
  it('serves health, metrics, the page and the JSON without a token when none is configured', async () => {
    const { url } = await start({});
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toBe('metric_total 1\n');
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('gateway admin');
    expect(await (await fetch(`${url}/api/sessions`)).json()).toEqual([
      { cluster: 'workers', session: 'session-1', instance: 'w-1' },
    ]);
    const read = async (path: string) => (await (await fetch(`${url}${path}`)).json()) as unknown;
    expect(await read('/api/clusters')).toMatchObject([{ instances: [{ state: 'bound' }] }]);
    expect(await read('/api/routes')).toMatchObject([{ cluster: 'workers' }]);
    expect(await read('/api/stats')).toMatchObject({ stickyBindings: 1 });
    expect((await fetch(`${url}/api/nothing`)).status).toBe(404);
  });

  it('answers /readyz 503 naming the failing checks', async () => {
    const { url } = await start({
      readiness: {
        ready: false,
        checks: { listening: true, 'discovery:workers': false, session_store: false },
      },
    });
    const answer = await fetch(`${url}/readyz`);
    expect(answer.status).toBe(503);
    expect(await answer.json()).toEqual({
      ready: false,
      failing: ['discovery:workers', 'session_store'],
      checks: { listening: true, 'discovery:workers': false, session_store: false },
    });
  });

  it('refuses every action with 403 when no token is configured', async () => {
    const { url, recorded } = await start({});
    const answer = await fetch(`${url}/api/clusters/workers/sessions/session-1/release`, { method: 'POST' });
    expect(answer.status).toBe(403);
    expect(recorded.calls).toEqual([]);
  });

  it('with a token, needs it on every request: 401 when missing or wrong', async () => {
    const { url, recorded } = await start({ token: TOKEN });
    for (const path of ['/metrics', '/healthz', '/', '/api/clusters']) {
      expect((await fetch(`${url}${path}`)).status, path).toBe(401);
      expect((await fetch(`${url}${path}`, bearer('wrong'))).status, path).toBe(401);
      expect((await fetch(`${url}${path}`, bearer(TOKEN))).status, path).toBe(200);
    }
    const release = `${url}/api/clusters/workers/sessions/session-1/release`;
    expect((await fetch(release, { method: 'POST' })).status).toBe(401);
    expect((await fetch(release, { method: 'POST', ...bearer(`${TOKEN}x`) })).status).toBe(401);
    expect(recorded.calls).toEqual([]);
  });

  it('routes the actions to the interface, decoding the path segments', async () => {
    const drained: string[] = [];
    let reloads = 0;
    const { url, recorded } = await start({
      token: TOKEN,
      actions: {
        drain: (cluster, instance) => {
          drained.push(`${cluster} ${instance}`);
          return instance === 'w-1' ? 'done' : 'not_found';
        },
        reload: async () => {
          reloads++;
        },
      },
    });
    const post = (path: string) => fetch(`${url}${path}`, { method: 'POST', ...bearer(TOKEN) });
    const release = await post('/api/clusters/workers/sessions/session-1/release');
    expect(release.status).toBe(200);
    expect(await release.json()).toEqual({ result: 'done' });
    expect((await post('/api/clusters/workers/sessions/a%2Fb%20c/release')).status).toBe(404);
    expect(recorded.calls).toEqual(['release workers session-1', 'release workers a/b c']);
    expect((await post('/api/clusters/workers/instances/w-1/drain')).status).toBe(200);
    expect((await post('/api/clusters/workers/instances/w-9/drain')).status).toBe(404);
    expect(drained).toEqual(['workers w-1', 'workers w-9']);
    expect((await post('/api/reload')).status).toBe(200);
    expect(reloads).toBe(1);
    // Mixed-up verbs and unknown actions are not routed anywhere.
    expect((await post('/api/clusters/workers/instances/w-1/release')).status).toBe(404);
    expect((await post('/api/clusters/workers/sessions/session-1/drain')).status).toBe(404);
    expect((await post('/api/clusters/%E0%A4%A/sessions/x/release')).status).toBe(400);
    expect(recorded.calls).toHaveLength(2);
  });

  it('answers 501 for drain and reload when the gateway has neither, and 422 for a refused reload', async () => {
    const { url } = await start({ token: TOKEN });
    const post = (path: string) => fetch(`${url}${path}`, { method: 'POST', ...bearer(TOKEN) });
    expect((await post('/api/clusters/workers/instances/w-1/drain')).status).toBe(501);
    expect((await post('/api/reload')).status).toBe(501);
    const refusing = await start({
      token: TOKEN,
      actions: {
        reload: () => Promise.reject(new Error('CONFIG_PATH: routes[0].cluster is unknown')),
      },
    });
    const answer = await fetch(`${refusing.url}/api/reload`, { method: 'POST', ...bearer(TOKEN) });
    expect(answer.status).toBe(422);
    expect(await answer.json()).toEqual({ error: 'CONFIG_PATH: routes[0].cluster is unknown' });
  });
});
