import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  loadPackageDefinition,
  Server,
  ServerCredentials,
  type ServiceClientConstructor,
  type ServiceDefinition,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHealth } from './health-check-call.js';
import { UpstreamConnection } from './upstream-connection.js';

const HEALTH_PROTO = fileURLToPath(new URL('../test-support/health.proto', import.meta.url));
const Health = (
  loadPackageDefinition(loadSync(HEALTH_PROTO, { keepCase: true, defaults: true })) as unknown as {
    grpc: { health: { v1: { Health: ServiceClientConstructor } } };
  }
).grpc.health.v1.Health;

/** Per service name: a serving status, a gRPC error, or no answer at all. */
const ANSWERS: Record<string, 'SERVING' | 'NOT_SERVING' | 'hang'> = {
  '': 'SERVING',
  'my.Service': 'SERVING',
  down: 'NOT_SERVING',
  hang: 'hang',
};

/** `grpc.health.v1.Health/Check` on a real grpc-js server, through the gateway's own HTTP/2 client. */
describe('checkHealth', () => {
  let server: Server;
  let upstream: UpstreamConnection;

  beforeAll(async () => {
    server = new Server();
    server.addService(
      Health.service as ServiceDefinition,
      {
        Check: (
          call: { request: { service: string } },
          callback: (error: unknown, value?: unknown) => void,
        ) => {
          const answer = ANSWERS[call.request.service];
          if (answer === undefined) callback({ code: status.NOT_FOUND, details: 'unknown service' });
          else if (answer !== 'hang') callback(null, { status: answer });
        },
      } as UntypedServiceImplementation,
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    upstream = new UpstreamConnection(`127.0.0.1:${port}`, '127.0.0.1', port);
  });

  afterAll(() => {
    upstream?.close();
    server?.forceShutdown();
  });

  it('passes on SERVING, for the whole server and for a named service', async () => {
    expect(await checkHealth(upstream, '', 2000)).toEqual({ healthy: true });
    expect(await checkHealth(upstream, 'my.Service', 2000)).toEqual({ healthy: true });
  });

  it('fails on NOT_SERVING and on a gRPC error, saying which', async () => {
    expect(await checkHealth(upstream, 'down', 2000)).toEqual({
      healthy: false,
      reason: 'serving status 2',
      answered: true,
    });
    expect(await checkHealth(upstream, 'other', 2000)).toEqual({
      healthy: false,
      reason: 'health check answered grpc-status 5',
      answered: true,
    });
  });

  it('fails a check unanswered in time, leaving the shared connection usable', async () => {
    const created = upstream.connectionsCreated;
    expect(await checkHealth(upstream, 'hang', 200)).toEqual({
      healthy: false,
      reason: 'no answer within 200 ms',
      answered: false,
    });
    expect(await checkHealth(upstream, '', 2000)).toEqual({ healthy: true });
    expect(upstream.connectionsCreated).toBe(created);
  });
});

describe('checkHealth against a peer that never speaks HTTP/2 (a frozen process)', () => {
  let silent: NetServer;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('fails within its timeout, connect included', async () => {
    const address = silent.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const upstream = new UpstreamConnection(`127.0.0.1:${address.port}`, '127.0.0.1', address.port);
    try {
      const startedAt = performance.now();
      expect(await checkHealth(upstream, '', 300)).toEqual({
        healthy: false,
        reason: 'no answer within 300 ms',
        answered: false,
      });
      expect(performance.now() - startedAt).toBeLessThan(5000);
    } finally {
      upstream.close();
    }
  });
});
