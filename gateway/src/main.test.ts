import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GatewayYaml, getFreePort, ManagedProcess, startRedis, waitFor } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProbeBackend, type ProbeClient, probeClient } from './test-support/probe-backend.js';
import { unary } from './test-support/test-gateway.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function run(env: Record<string, string>): ManagedProcess {
  return ManagedProcess.start({
    name: 'gateway',
    command: process.execPath,
    args: ['--import', 'tsx', MAIN],
    env,
  });
}

async function exitCode(gateway: ManagedProcess): Promise<number | null> {
  return (await gateway.exited).code;
}

/** The composition root as a process: `node gateway/dist/main.js` with the reference env vars. */
describe('main (the gateway process)', () => {
  let backend: ProbeBackend;
  let configPath: string;
  const running: ManagedProcess[] = [];

  beforeAll(async () => {
    backend = await ProbeBackend.start('alpha');
    const dir = mkdtempSync(join(tmpdir(), 'gateway-main-'));
    configPath = join(dir, 'gateway.yaml');
    writeFileSync(
      configPath,
      new GatewayYaml().route('/probe.v1.Probe/', 'probe').staticCluster('probe', backend.address).toString(),
    );
  });

  afterAll(async () => {
    await Promise.all(running.map((r) => r.kill()));
    await backend?.stop();
  });

  function env(port: number, extra: Record<string, string> = {}): Record<string, string> {
    return {
      SERVICE_PORT_GRPC: String(port),
      CONFIG_PATH: configPath,
      RETRY_COUNT: '3',
      RETRY_TIMEOUT_MS: '500',
      SHUTDOWN_GRACE_MS: '5000',
      ADMIN_PORT: '0',
      ...extra,
    };
  }

  it('refuses bad configuration: the problems on stderr, exit code 1', async () => {
    const r = run({ SERVICE_PORT_GRPC: '70000', ADMIN_PORT: '70000', ADMIN_HOST: 'not a host' });
    expect(await exitCode(r)).toBe(1);
    expect(r.stderr()).toContain('failed to load configuration');
    expect(r.stderr()).toContain('SERVICE_PORT_GRPC must be 1-65535, got 70000');
    expect(r.stderr()).toContain('CONFIG_PATH is required');
    expect(r.stderr()).toContain(
      'ADMIN_PORT must be a port (0-65535, 0 = disabled), got "70000" (at most 65535)',
    );
    expect(r.stderr()).toContain('ADMIN_HOST must be an IP address or a host name, got "not a host"');
  });

  it('serves the admin listener on ADMIN_PORT, and refuses to start when that port is taken', async () => {
    const adminPort = await getFreePort();
    const gateway = run(env(await getFreePort(), { ADMIN_PORT: String(adminPort) }));
    running.push(gateway);
    await gateway.waitForJsonLine((line) => line.msg === 'listening', {
      description: 'the listening line',
      timeoutMs: 15_000,
    });
    const admin = `http://127.0.0.1:${adminPort}`;
    expect((await fetch(`${admin}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${admin}/readyz`)).json()).toEqual({
      ready: true,
      failing: [],
      checks: { listening: true },
    });
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total');
    expect(metrics).toContain('gateway_cluster_instances{cluster="probe",state="free"} 1');

    const second = run(env(await getFreePort(), { ADMIN_PORT: String(adminPort) }));
    running.push(second);
    expect(await exitCode(second)).toBe(1);
    expect(second.stderr()).toContain(
      `failed to listen on ADMIN_HOST:ADMIN_PORT 127.0.0.1:${adminPort}: address already in use`,
    );
    gateway.signal('SIGTERM');
    expect(await exitCode(gateway)).toBe(0);
  });

  it('with GATEWAY_WORKERS=2, serves the admin listener from the primary over both workers', async () => {
    const redis = await startRedis();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'gateway-main-workers-'));
      const workersConfig = join(dir, 'gateway.yaml');
      writeFileSync(
        workersConfig,
        new GatewayYaml()
          .sessionStore({ type: 'redis', url: redis.url })
          .route('/probe.v1.Probe/', 'probe')
          .staticCluster('probe', backend.address)
          .toString(),
      );
      const adminPort = await getFreePort();
      const port = await getFreePort();
      const gateway = run(
        env(port, { CONFIG_PATH: workersConfig, GATEWAY_WORKERS: '2', ADMIN_PORT: String(adminPort) }),
      );
      running.push(gateway);
      const admin = `http://127.0.0.1:${adminPort}`;
      const readiness = await waitFor(
        async () => {
          const answer = await fetch(`${admin}/readyz`).catch(() => undefined);
          return answer?.status === 200 ? answer.json() : undefined;
        },
        { description: 'both workers ready', timeoutMs: 60_000, intervalMs: 200 },
      );
      expect(readiness).toEqual({
        ready: true,
        failing: [],
        checks: { workers: true, listening: true, session_store: true },
      });
      // Each call on its own connection: node:cluster spreads connections over the workers.
      for (let i = 0; i < 6; i++) {
        const client = probeClient(`127.0.0.1:${port}`, { 'grpc.use_local_subchannel_pool': 1 });
        expect((await unary(client, { text: `call ${i}` })).status.code).toBe(0);
        client.close();
      }
      const metrics = await (await fetch(`${admin}/metrics`)).text();
      expect(metrics).toContain(
        'grpc_server_started_total{grpc_service="probe.v1.Probe",grpc_method="Unary"} 6',
      );
      expect(metrics).toContain('gateway_cluster_instances{cluster="probe",state="free"} 1');
      const clusters = (await (await fetch(`${admin}/api/clusters`)).json()) as { instances: unknown[] }[];
      expect(clusters.map((cluster) => cluster.instances.length)).toEqual([1]);
      gateway.signal('SIGTERM');
      expect(await exitCode(gateway)).toBe(0);
    } finally {
      await redis.stop();
    }
  }, 90_000);

  it('serves, refuses a second instance on the same port, and drains in-flight calls on SIGTERM', async () => {
    const port = await getFreePort();
    const gateway = run(env(port));
    running.push(gateway);
    await gateway.waitForJsonLine((line) => line.msg === 'listening', {
      description: 'the listening line',
      timeoutMs: 15_000,
    });
    const client: ProbeClient = probeClient(`127.0.0.1:${port}`);
    try {
      expect((await unary(client, { text: 'hi' })).reply?.backend).toBe('alpha');
      await waitFor(() => gateway.stdout().includes('"msg":"call finished"'), {
        description: 'an access-log line',
      });
      expect(gateway.stdout()).not.toContain('authorization');

      const second = run(env(port));
      running.push(second);
      expect(await exitCode(second)).toBe(1);
      expect(second.stderr()).toContain(`failed to listen on 127.0.0.1:${port}: address already in use`);

      const callsBefore = backend.calls.length;
      const inFlight = unary(client, { text: 'slow', delay_ms: 700 });
      await waitFor(() => backend.calls.length > callsBefore, {
        description: 'the slow call to reach the backend',
      });
      gateway.signal('SIGTERM');
      const outcome = await inFlight;
      expect(outcome.error).toBeUndefined();
      expect(outcome.reply?.text).toBe('slow');
      expect(await exitCode(gateway)).toBe(0);
    } finally {
      client.close();
    }
  });
});
