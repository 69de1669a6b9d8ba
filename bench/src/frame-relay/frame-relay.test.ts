import { execFile, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EchoBackend, startEchoBackend } from '../echo-backend.js';
import { callGrpc, connectH2 } from '../grpc-client.js';
import { benchPayload, grpcFrame } from '../grpc-frame.js';
import { parseH2loadOutput } from '../h2load-output.js';
import { type FrameRelay, startFrameRelay } from './frame-relay.js';

describe('frame relay in front of the echo backend', () => {
  let backend: EchoBackend;
  let relay: FrameRelay;
  beforeAll(async () => {
    backend = await startEchoBackend({ instanceId: 'echo-r' });
    relay = await startFrameRelay({ upstream: `127.0.0.1:${backend.port}` });
  });
  afterAll(async () => {
    await relay?.close();
    await backend?.close();
  });

  it.each([20, 1024, 65_536, 1024 * 1024])(
    'echoes a %d-byte message with headers and trailers, within both sides’ flow control',
    async (size) => {
      const session = await connectH2(relay.port);
      try {
        const body = grpcFrame(benchPayload(size));
        const result = await callGrpc(session, {
          path: '/bench.Echo/Plain',
          body,
          timeoutMs: 10_000,
          keepBody: true,
        });
        expect(result.grpcStatus).toBe(0);
        expect(result.headers?.['echo-instance']).toBe('echo-r');
        expect(result.body?.equals(body)).toBe(true);
      } finally {
        session.close();
      }
    },
  );

  it('keeps 300 concurrent calls from three connections apart (stream ids remapped onto one upstream)', async () => {
    const sessions = await Promise.all([0, 1, 2].map(() => connectH2(relay.port)));
    try {
      const calls = Array.from({ length: 300 }, async (_, i) => {
        const body = grpcFrame(Buffer.from(`call-${i}-${'x'.repeat(i)}`));
        const result = await callGrpc(sessions[i % 3] as http2.ClientHttp2Session, {
          path: '/bench.Echo/Plain',
          body,
          timeoutMs: 10_000,
          keepBody: true,
        });
        return result.grpcStatus === 0 && result.body?.equals(body) === true;
      });
      expect((await Promise.all(calls)).every(Boolean)).toBe(true);
    } finally {
      for (const session of sessions) session.close();
    }
  });

  it('relays a bidirectional stream message by message', async () => {
    const session = await connectH2(relay.port);
    try {
      const stream = session.request(
        {
          ':method': 'POST',
          ':path': '/bench.Echo/Chat',
          'content-type': 'application/grpc',
          te: 'trailers',
        },
        { endStream: false },
      );
      const next = () => new Promise<Buffer>((resolve) => stream.once('data', resolve));
      for (const text of ['one', 'two', 'three']) {
        const message = grpcFrame(Buffer.from(text));
        const echoed = next();
        stream.write(message);
        expect((await echoed).equals(message)).toBe(true);
      }
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('trailers', resolve));
      stream.end();
      expect((await trailers)['grpc-status']).toBe('0');
    } finally {
      session.close();
    }
  });

  it.skipIf(spawnSync('h2load', ['--version']).status !== 0)('serves h2load', async () => {
    const file = join(tmpdir(), `relay-test-body-${process.pid}.bin`);
    await writeFile(file, grpcFrame(benchPayload(1024)));
    // Asynchronously: the relay and the backend run in this very process.
    const run = await promisify(execFile)(
      'h2load',
      [
        '-n',
        '2000',
        '-c',
        '4',
        '-m',
        '16',
        '-d',
        file,
        '-H',
        'content-type: application/grpc',
        '-H',
        'te: trailers',
        `http://127.0.0.1:${relay.port}/bench.Echo/Plain`,
      ],
      { encoding: 'utf8', timeout: 15_000 },
    );
    expect(`${run.stdout}${run.stderr}`).toContain('finished in');
    const summary = parseH2loadOutput(run.stdout);
    expect(summary.requests.succeeded).toBe(2000);
    expect(summary.dataBytes).toBe(2000 * (1024 + 5));
  });
});

describe('frame relay edge cases', () => {
  let server: http2.Http2Server;
  let relay: FrameRelay;
  const cancelled: number[] = [];
  beforeAll(async () => {
    server = http2.createServer();
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      if (headers[':path'] === '/bench.Echo/TrailersOnly') {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'nope' },
          { endStream: true },
        );
        return;
      }
      // Hold the call open until the client goes away; record how it went away.
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.on('close', () => cancelled.push(stream.rstCode ?? -1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    relay = await startFrameRelay({ upstream: `127.0.0.1:${(server.address() as AddressInfo).port}` });
  });
  afterAll(async () => {
    await relay?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('relays a trailers-only answer', async () => {
    const session = await connectH2(relay.port);
    try {
      const result = await callGrpc(session, {
        path: '/bench.Echo/TrailersOnly',
        body: grpcFrame(Buffer.from('x')),
        timeoutMs: 5_000,
      });
      expect(result.grpcStatus).toBe(12);
      expect(result.grpcMessage).toBe('nope');
    } finally {
      session.close();
    }
  });

  it('passes a client cancellation upstream as RST_STREAM CANCEL', async () => {
    const session = await connectH2(relay.port);
    try {
      const stream = session.request(
        { ':method': 'POST', ':path': '/bench.Echo/Hold', 'content-type': 'application/grpc' },
        { endStream: false },
      );
      await new Promise((resolve) => stream.once('response', resolve));
      stream.close(http2.constants.NGHTTP2_CANCEL);
      const deadline = Date.now() + 5_000;
      while (cancelled.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(cancelled).toEqual([http2.constants.NGHTTP2_CANCEL]);
    } finally {
      session.close();
    }
  });
});
