import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { credentials, ServerCredentials, status } from '@grpc/grpc-js';
import { generateTestCertificates, type TestCertificates, waitFor } from '@stickygw/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DownstreamTlsConfig, UpstreamTlsConfig } from '../config/types.js';
import { createLogger } from '../observability/logger.js';
import { ProbeBackend, type ProbeClient, probeClient } from '../test-support/probe-backend.js';
import {
  PROBE_PREFIX,
  route,
  type StartedGateway,
  startTestGateway,
  unary,
} from '../test-support/test-gateway.js';

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

function capturedLogger(): { lines: LogLine[]; logger: ReturnType<typeof createLogger> } {
  const lines: LogLine[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  });
  return { lines, logger };
}

let certs: TestCertificates;
const cleanups: (() => unknown)[] = [];

beforeAll(() => {
  certs = generateTestCertificates();
});

afterAll(() => certs.remove());

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function downstreamTls(mutual: boolean): DownstreamTlsConfig {
  return {
    certFile: certs.server.certFile,
    cert: certs.server.cert,
    keyFile: certs.server.keyFile,
    key: certs.server.key,
    ...(mutual ? { clientCaFile: certs.ca.certFile, clientCa: certs.ca.cert } : {}),
  };
}

async function tlsBackend(name: string, leaf = certs.server): Promise<ProbeBackend> {
  const backend = await ProbeBackend.start(
    name,
    0,
    ServerCredentials.createSsl(null, [
      { cert_chain: Buffer.from(leaf.cert), private_key: Buffer.from(leaf.key) },
    ]),
  );
  cleanups.push(() => backend.stop());
  return backend;
}

async function gatewayTo(
  address: string,
  options: { tls?: DownstreamTlsConfig; upstreamTls?: UpstreamTlsConfig } = {},
): Promise<{ gw: StartedGateway; lines: LogLine[] }> {
  const { lines, logger } = capturedLogger();
  const gw = await startTestGateway({
    routes: [route(PROBE_PREFIX, 'probe')],
    clusters: [
      {
        type: 'static',
        id: 'probe',
        address,
        ...(options.upstreamTls === undefined ? {} : { tls: options.upstreamTls }),
      },
    ],
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    deps: { logger },
  });
  cleanups.push(() => gw.close());
  return { gw, lines };
}

function tlsClient(address: string, client?: { cert: string; key: string }): ProbeClient {
  const channel = credentials.createSsl(
    Buffer.from(certs.ca.cert),
    client === undefined ? null : Buffer.from(client.key),
    client === undefined ? null : Buffer.from(client.cert),
  );
  const probe = probeClient(address, { 'grpc.ssl_target_name_override': 'localhost' }, channel);
  cleanups.push(() => probe.close());
  return probe;
}

const upstreamCa = (): UpstreamTlsConfig => ({ caFile: certs.ca.certFile, ca: certs.ca.cert });

describe('TLS downstream and upstream', () => {
  it('carries a grpc-js TLS call through the gateway to a TLS grpc-js backend', async () => {
    const backend = await tlsBackend('secure');
    const { gw } = await gatewayTo(backend.address, { tls: downstreamTls(false), upstreamTls: upstreamCa() });
    const outcome = await unary(tlsClient(gw.address), { text: 'over tls' });
    expect(outcome.error).toBeUndefined();
    expect(outcome.reply?.backend).toBe('secure');
    expect(outcome.reply?.text).toBe('over tls');
  });

  it('refuses a client that does not offer ALPN h2, in the handshake, and logs why', async () => {
    const backend = await ProbeBackend.start('plain');
    cleanups.push(() => backend.stop());
    const { gw, lines } = await gatewayTo(backend.address, { tls: downstreamTls(false) });
    const refused = await new Promise<string>((resolve) => {
      const socket = connectTls({
        host: '127.0.0.1',
        port: gw.port,
        ca: certs.ca.cert,
        servername: 'localhost',
        ALPNProtocols: ['http/1.1'],
      });
      socket.on('secureConnect', () => resolve('connected'));
      socket.on('error', (err) => resolve(err.message));
    });
    expect(refused).toMatch(/no application protocol/i);
    const silent = await new Promise<string>((resolve) => {
      const socket = connectTls({
        host: '127.0.0.1',
        port: gw.port,
        ca: certs.ca.cert,
        servername: 'localhost',
      });
      socket.on('error', (err) => resolve(err.message));
      socket.on('close', () => resolve('closed'));
    });
    expect(silent).toMatch(/closed|ECONNRESET|socket hang up/);
    await waitFor(() => lines.filter((line) => line.msg.startsWith('TLS handshake failed')).length >= 2, {
      description: 'both refusals logged',
    });
    const logged = lines.filter((line) => line.msg.startsWith('TLS handshake failed'));
    expect(logged.map((line) => line.reason).join('\n')).toMatch(/no ALPN protocol|application protocol/i);
    expect(logged[0]?.peer).toBe('127.0.0.1');
  });

  it('mutual TLS: admits a client certificate of the CA, refuses none and another CA in the handshake', async () => {
    const backend = await ProbeBackend.start('plain');
    cleanups.push(() => backend.stop());
    const { gw, lines } = await gatewayTo(backend.address, { tls: downstreamTls(true) });
    const admitted = await unary(tlsClient(gw.address, certs.client), {});
    expect(admitted.error).toBeUndefined();
    const anonymous = await unary(tlsClient(gw.address), {}, undefined, { deadline: Date.now() + 5000 });
    expect(anonymous.status.code).toBe(status.UNAVAILABLE);
    const stranger = await unary(tlsClient(gw.address, certs.otherClient), {}, undefined, {
      deadline: Date.now() + 5000,
    });
    expect(stranger.status.code).toBe(status.UNAVAILABLE);
    expect(backend.calls).toHaveLength(1);
    await waitFor(() => lines.filter((line) => line.msg.startsWith('TLS handshake failed')).length >= 2, {
      description: 'both mTLS refusals logged',
    });
    const reasons = lines
      .filter((line) => line.msg.startsWith('TLS handshake failed'))
      .map((line) => String(line.reason))
      .join('\n');
    expect(reasons).toContain(
      'peer did not return a certificate (ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE)',
    );
    expect(reasons).toContain('client certificate refused: UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('bounds the log of failed handshakes: a burst gives a few lines and one count', async () => {
    const backend = await ProbeBackend.start('plain');
    cleanups.push(() => backend.stop());
    const { gw, lines } = await gatewayTo(backend.address, { tls: downstreamTls(true) });
    const attempts = 40;
    for (let i = 0; i < attempts; i++) {
      await new Promise<void>((resolve) => {
        const socket = connectTls({
          host: '127.0.0.1',
          port: gw.port,
          ca: certs.ca.cert,
          servername: 'localhost',
          ALPNProtocols: ['h2'],
        });
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
      });
    }
    await waitFor(() => lines.filter((line) => line.msg.startsWith('TLS handshake failed')).length >= 10, {
      description: 'the first failures logged',
    });
    await gw.close();
    const oneByOne = lines.filter((line) => line.msg === `TLS handshake failed: ${String(line.reason)}`);
    const summary = lines.find((line) => typeof line.suppressed === 'number');
    expect(oneByOne).toHaveLength(10);
    expect((summary?.suppressed as number) + oneByOne.length).toBe(attempts);
  });

  it('closes at once although a client stalls in its TLS handshake', async () => {
    const backend = await ProbeBackend.start('plain');
    cleanups.push(() => backend.stop());
    const { gw } = await gatewayTo(backend.address, { tls: downstreamTls(false) });
    const stalled = connectTcp({ host: '127.0.0.1', port: gw.port });
    cleanups.push(() => stalled.destroy());
    await new Promise((resolve) => stalled.once('connect', resolve));
    await waitFor(() => gw.gateway.stats().downstreamConnections === 0, {
      description: 'the gateway saw it',
    });
    const closing = performance.now();
    // HANDSHAKE_TIMEOUT_MS is 10 s here: close must not wait for it.
    await gw.close(0);
    expect(performance.now() - closing).toBeLessThan(3_000);
  });

  it('refuses an expired upstream certificate: UNAVAILABLE, and the reason in the log', async () => {
    const backend = await tlsBackend('expired', certs.expiredServer);
    const { gw, lines } = await gatewayTo(backend.address, { upstreamTls: upstreamCa() });
    const client = probeClient(gw.address);
    cleanups.push(() => client.close());
    const outcome = await unary(client, {});
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
    expect(outcome.status.details).toBe('backend service unavailable');
    expect(backend.calls).toHaveLength(0);
    expect(JSON.stringify(lines)).toMatch(/certificate has expired/);
  });

  it('refuses an upstream certificate for another name: UNAVAILABLE, and the reason in the log', async () => {
    const backend = await tlsBackend('wrong-name', certs.wrongNameServer);
    const { gw, lines } = await gatewayTo(backend.address, { upstreamTls: upstreamCa() });
    const client = probeClient(gw.address);
    cleanups.push(() => client.close());
    const outcome = await unary(client, {});
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
    expect(JSON.stringify(lines)).toMatch(
      /does not match certificate's altnames|ERR_TLS_CERT_ALTNAME_INVALID/,
    );
  });

  it('checks the upstream certificate against tls.server_name when set', async () => {
    const backend = await tlsBackend('wrong-name', certs.wrongNameServer);
    const { gw } = await gatewayTo(backend.address, {
      upstreamTls: { ...upstreamCa(), serverName: 'wrong.example' },
    });
    const client = probeClient(gw.address);
    cleanups.push(() => client.close());
    const outcome = await unary(client, { text: 'named' });
    expect(outcome.error).toBeUndefined();
    expect(outcome.reply?.backend).toBe('wrong-name');
  });
});
