import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EchoBackend, startEchoBackend } from './echo-backend.js';
import { callGrpc, connectH2 } from './grpc-client.js';
import { benchPayload, grpcFrame } from './grpc-frame.js';
import { type NaiveProxy, startNaiveProxy } from './naive-proxy.js';

describe('smoke: echo backend behind the naive proxy', () => {
  let backend: EchoBackend;
  let proxy: NaiveProxy;
  beforeAll(async () => {
    backend = await startEchoBackend({ instanceId: 'echo-a' });
    proxy = await startNaiveProxy({ upstream: `127.0.0.1:${backend.port}` });
  });
  afterAll(async () => {
    await proxy?.close();
    await backend?.close();
  });

  it.each([
    ['direct', () => backend.port],
    ['through the naive proxy', () => proxy.port],
  ])('echoes a 64 KiB message %s with grpc-status 0', async (_, port) => {
    const session = await connectH2(port());
    try {
      const body = grpcFrame(benchPayload(65_536));
      const result = await callGrpc(session, {
        path: '/bench.Echo/Call',
        body,
        timeoutMs: 5_000,
        keepBody: true,
      });
      expect(result.grpcStatus).toBe(0);
      expect(result.headers?.['echo-instance']).toBe('echo-a');
      expect(result.body?.equals(body)).toBe(true);
    } finally {
      session.close();
    }
  });
});
