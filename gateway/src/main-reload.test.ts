import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import {
  FakeDiscoverer,
  GatewayYaml,
  generateTestCertificates,
  getFreePort,
  ManagedProcess,
  startRedis,
  type TestCertificates,
  waitFor,
} from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProbeBackend, type ProbeClient, probeClient } from './test-support/probe-backend.js';
import { sessionMetadata, unary } from './test-support/test-gateway.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** The gateway process: SIGHUP reloads the YAML file and the certificates (README, Live reload). */
describe('main: SIGHUP and TLS (the gateway process)', { timeout: 60_000 }, () => {
  let alpha: ProbeBackend;
  let beta: ProbeBackend;
  let certs: TestCertificates;
  let dir: string;
  const running: ManagedProcess[] = [];
  const clients: ProbeClient[] = [];

  beforeAll(async () => {
    alpha = await ProbeBackend.start('alpha');
    beta = await ProbeBackend.start('beta');
    certs = generateTestCertificates();
    dir = mkdtempSync(join(tmpdir(), 'gateway-reload-'));
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(running.map((r) => r.kill()));
    await Promise.all([alpha?.stop(), beta?.stop()]);
    certs?.remove();
  });

  async function start(name: string, yaml: string, extra: Record<string, string> = {}) {
    const configPath = join(dir, `${name}.yaml`);
    writeFileSync(configPath, yaml);
    const port = await getFreePort();
    const gateway = ManagedProcess.start({
      name,
      command: process.execPath,
      args: ['--import', 'tsx', MAIN],
      env: {
        SERVICE_PORT_GRPC: String(port),
        CONFIG_PATH: configPath,
        RETRY_COUNT: '3',
        RETRY_TIMEOUT_MS: '500',
        ACCESS_LOG: 'false',
        // Several of these run at once: the default admin port 9901 would be taken.
        ADMIN_PORT: '0',
        ...extra,
      },
    });
    running.push(gateway);
    await gateway.waitForJsonLine((line) => line.msg === 'listening', { timeoutMs: 30_000 });
    return { gateway, port, configPath };
  }

  const base = () => new GatewayYaml().route('/probe.v1.Probe/', 'a').staticCluster('a', alpha.address);
  const withUnaryOnB = () =>
    base().route('/probe.v1.Probe/Unary', 'b').staticCluster('b', beta.address).toString();

  it('an added route answers within 1 s of SIGHUP; a broken YAML changes nothing', async () => {
    const { gateway, port, configPath } = await start('gateway-reload', base().toString());
    const client = probeClient(`127.0.0.1:${port}`);
    clients.push(client);
    expect((await unary(client, {})).reply?.backend).toBe('alpha');

    writeFileSync(configPath, withUnaryOnB());
    const signalledAt = performance.now();
    gateway.signal('SIGHUP');
    await waitFor(async () => (await unary(client, {})).reply?.backend === 'beta', {
      description: 'the new route to answer',
      timeoutMs: 5_000,
      intervalMs: 10,
    });
    const answeredAfterMs = performance.now() - signalledAt;
    console.info(`added route answered ${Math.round(answeredAfterMs)} ms after SIGHUP`);
    expect(answeredAfterMs).toBeLessThan(1_000);
    await gateway.waitForJsonLine((line) => line.msg === 'config reloaded' && String(line.added) === 'b');

    writeFileSync(configPath, 'routes:\n  - prefix: ""\n    cluster: nowhere\nclusters: [\n');
    gateway.signal('SIGHUP');
    await gateway.waitForJsonLine((line) => String(line.msg).startsWith('config reload refused'));
    expect((await unary(client, {})).reply?.backend).toBe('beta');
    expect(gateway.running).toBe(true);
  });

  it('with GATEWAY_WORKERS=2 the primary forwards SIGHUP to every worker', async () => {
    const redis = await startRedis();
    try {
      const yaml = base().sessionStore({ type: 'redis', url: redis.url });
      const { gateway, configPath } = await start('gateway-workers', yaml.toString(), {
        GATEWAY_WORKERS: '2',
      });
      await waitFor(() => gateway.stdout().split('"msg":"listening"').length - 1 >= 2, {
        description: 'both workers listening',
        timeoutMs: 30_000,
      });
      writeFileSync(
        configPath,
        base()
          .sessionStore({ type: 'redis', url: redis.url })
          .route('/probe.v1.Probe/Unary', 'b')
          .staticCluster('b', beta.address)
          .toString(),
      );
      gateway.signal('SIGHUP');
      await waitFor(() => gateway.stdout().split('"msg":"config reloaded"').length - 1 >= 2, {
        description: 'both workers reloaded',
        timeoutMs: 10_000,
      });
    } finally {
      await redis.stop();
    }
  });

  it('serves TLS to a non-Node peer (curl --http2 --cacert) and reloads the certificate on SIGHUP', async () => {
    const certFile = join(dir, 'listener.pem');
    const keyFile = join(dir, 'listener-key.pem');
    writeFileSync(certFile, certs.server.cert);
    writeFileSync(keyFile, certs.server.key);
    const { gateway, port } = await start('gateway-tls', base().toString(), {
      TLS_CERT_FILE: certFile,
      TLS_KEY_FILE: keyFile,
    });
    const curl = await promisify(execFile)('curl', [
      '--http2',
      '-sS',
      '-D',
      '-',
      '-o',
      '/dev/null',
      '--cacert',
      certs.ca.certFile,
      '-H',
      'content-type: application/grpc',
      '--data-binary',
      '',
      `https://localhost:${port}/not.Routed/Method`,
    ]);
    expect(curl.stdout).toMatch(/^HTTP\/2 200/);
    expect(curl.stdout).toContain('grpc-status: 12');

    const client = probeClient(
      `127.0.0.1:${port}`,
      { 'grpc.ssl_target_name_override': 'localhost' },
      credentials.createSsl(Buffer.from(certs.ca.cert)),
    );
    clients.push(client);
    expect((await unary(client, {})).reply?.backend).toBe('alpha');
    const renewed = certs.issue('listener-renewed', ['localhost', '127.0.0.1']);
    writeFileSync(certFile, renewed.cert);
    writeFileSync(keyFile, renewed.key);
    gateway.signal('SIGHUP');
    await gateway.waitForJsonLine((line) => line.msg === 'config reloaded');
    // The open connection is kept; new handshakes present the renewed certificate.
    expect((await unary(client, {})).reply?.backend).toBe('alpha');
    const served = await promisify(execFile)('sh', [
      '-c',
      `openssl s_client -connect 127.0.0.1:${port} -servername localhost -alpn h2 </dev/null 2>/dev/null | openssl x509 -noout -serial`,
    ]);
    const expected = await promisify(execFile)('openssl', [
      'x509',
      '-noout',
      '-serial',
      '-in',
      renewed.certFile,
    ]);
    expect(served.stdout.trim()).toBe(expected.stdout.trim());
  });

  it('keeps sticky bindings in a Redis reached over TLS (rediss://)', async () => {
    const redis = await startRedis({
      tls: { certFile: certs.server.certFile, keyFile: certs.server.keyFile, caFile: certs.ca.certFile },
    });
    const discoverer = await FakeDiscoverer.start({
      instances: [{ instance_id: 'alpha', ipv4: '127.0.0.1', port: alpha.port }],
    });
    try {
      expect(redis.url).toMatch(/^rediss:\/\//);
      const yaml = new GatewayYaml()
        .route('/probe.v1.Probe/', 'pool', { stickyHeader: 'session-id' })
        .dynamicCluster('pool', discoverer.url, 60_000)
        .sessionStore({ type: 'redis' });
      // The test CA is private: node trusts it through NODE_EXTRA_CA_CERTS, as an operator's would be.
      const { gateway, port } = await start('gateway-rediss', yaml.toString(), {
        SESSION_STORE_URL: redis.url,
        NODE_EXTRA_CA_CERTS: certs.ca.certFile,
      });
      const client = probeClient(`127.0.0.1:${port}`);
      clients.push(client);
      const outcome = await unary(client, {}, sessionMetadata('over-tls'));
      expect(outcome.error).toBeUndefined();
      expect(outcome.reply?.backend).toBe('alpha');
      expect(gateway.stdout()).not.toContain('session store not reachable');
      const keys = await promisify(execFile)('redis-cli', [
        '--tls',
        '--cacert',
        certs.ca.certFile,
        '-h',
        '127.0.0.1',
        '-p',
        String(redis.port),
        '--scan',
      ]);
      expect(keys.stdout).toContain('stickygw:{pool}:bindings');
    } finally {
      await discoverer.stop();
      await redis.stop();
    }
  });
});
