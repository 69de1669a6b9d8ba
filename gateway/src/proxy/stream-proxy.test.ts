import { once } from 'node:events';
import { connect, constants, createServer, type ServerHttp2Session } from 'node:http2';
import { type AddressInfo, connect as tcpConnect } from 'node:net';
import {
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientWritableStream,
  Metadata,
} from '@grpc/grpc-js';
import { getFreePort, waitFor } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BIG_MESSAGES,
  ProbeBackend,
  type ProbeClient,
  type ProbeReply,
  type ProbeRequest,
  probeClient,
} from '../test-support/probe-backend.js';
import {
  collect,
  PROBE_PREFIX,
  route,
  type StartedGateway,
  startTestGateway,
  staticCluster,
  unary,
} from '../test-support/test-gateway.js';

interface BlackHole {
  readonly port: number;
  cancelled: number;
  stop(): Promise<void>;
}

/** An HTTP/2 server that accepts every stream and never answers, ignoring grpc-timeout. */
async function startBlackHole(): Promise<BlackHole> {
  const server = createServer();
  const sessions = new Set<ServerHttp2Session>();
  const hole: BlackHole = {
    port: 0,
    cancelled: 0,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('session', (session) => sessions.add(session));
  server.on('stream', (stream) => {
    stream.resume();
    stream.on('close', () => {
      if (stream.rstCode === constants.NGHTTP2_CANCEL) hole.cancelled++;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return Object.assign(hole, { port: (server.address() as AddressInfo).port });
}

/** Component tests of the data path over a static cluster: one real grpc-js backend, a real gateway. */
describe('proxying any gRPC call (static cluster)', () => {
  let backend: ProbeBackend;
  let gw: StartedGateway;
  let client: ProbeClient;
  let blackHole: BlackHole;

  beforeAll(async () => {
    backend = await ProbeBackend.start('alpha');
    blackHole = await startBlackHole();
    gw = await startTestGateway({
      routes: [route(PROBE_PREFIX, 'probe'), route('/dead.v1.', 'dead'), route('/hole.v1.', 'hole')],
      clusters: [
        staticCluster('probe', backend.address),
        staticCluster('dead', `127.0.0.1:${await getFreePort()}`),
        staticCluster('hole', `127.0.0.1:${blackHole.port}`),
      ],
      maxMessageBytes: 16 * 1024 * 1024,
    });
    client = probeClient(gw.address, BIG_MESSAGES);
  });

  afterAll(async () => {
    client?.close();
    await blackHole?.stop();
    await gw?.close();
    await backend?.stop();
  });

  it('relays a unary call with its metadata (text and -bin) both ways and the trailers', async () => {
    const metadata = new Metadata();
    metadata.set('x-echo-text', 'hello');
    metadata.set('x-echo-data-bin', Buffer.from([0, 1, 2, 255]));
    const outcome = await unary(client, { text: 'ping', payload: Buffer.from('abc') }, metadata);
    expect(outcome.error).toBeUndefined();
    expect(outcome.reply).toMatchObject({ text: 'ping', backend: 'alpha' });
    expect(outcome.reply?.payload.toString()).toBe('abc');
    expect(outcome.headers?.get('x-h-text')).toEqual(['hello']);
    expect(outcome.headers?.get('x-h-data-bin')).toEqual([Buffer.from([0, 1, 2, 255])]);
    expect(outcome.status.metadata.get('x-t-text')).toEqual(['hello']);
    expect(outcome.status.metadata.get('x-t-data-bin')).toEqual([Buffer.from([0, 1, 2, 255])]);
    const seen = backend.calls.at(-1);
    expect(seen?.method).toBe('Unary');
    expect(seen?.metadata.get('x-echo-data-bin')).toEqual([Buffer.from([0, 1, 2, 255])]);
  });

  it('relays upstream statuses unchanged: trailers-only and after headers', async () => {
    const metadata = new Metadata();
    metadata.set('x-echo-why', 'because');
    const trailersOnly = await unary(
      client,
      { fail_code: 7, fail_message: 'Server session is not set' },
      metadata,
    );
    expect(trailersOnly.error?.code).toBe(7);
    expect(trailersOnly.error?.details).toBe('Server session is not set');
    expect(trailersOnly.status.metadata.get('x-t-why')).toEqual(['because']);
    const afterHeaders = await unary(client, {
      fail_code: 14,
      fail_message: 'worker says no',
      headers_first: true,
    });
    expect(afterHeaders.error?.code).toBe(14);
    expect(afterHeaders.error?.details).toBe('worker says no');
    const unknown = await unary(client, { fail_code: 2, fail_message: 'odd ✓ 100%' });
    expect(unknown.error?.code).toBe(2);
    expect(unknown.error?.details).toBe('odd ✓ 100%');
  });

  it('relays client streaming', async () => {
    const outcome = await new Promise<{ reply?: ProbeReply; code?: number }>((resolve) => {
      const call = client.ClientStream?.((err: { code: number } | null, reply?: ProbeReply) =>
        resolve({ reply, code: err?.code }),
      ) as ClientWritableStream<ProbeRequest>;
      for (let i = 0; i < 50; i++) call.write({ text: `m${i}`, payload: Buffer.alloc(1000) });
      call.end();
    });
    expect(outcome.code).toBeUndefined();
    expect(outcome.reply?.received).toBe(50);
    expect(outcome.reply?.payload.toString()).toBe('50000');
    expect(outcome.reply?.text.split(',').at(-1)).toBe('m49');
  });

  it('relays server streaming with headers, every message and trailers', async () => {
    const metadata = new Metadata();
    metadata.set('x-echo-k', 'v');
    const call = client.ServerStream?.(
      { text: 's', count: 20 },
      metadata,
    ) as ClientReadableStream<ProbeReply>;
    const outcome = await collect(call);
    expect(outcome.status.code).toBe(0);
    expect(outcome.messages.map((m) => m.index)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(outcome.headers?.get('x-h-k')).toEqual(['v']);
    expect(outcome.status.metadata.get('x-t-k')).toEqual(['v']);
  });

  it('relays bidi streaming message by message', async () => {
    const call = client.Bidi?.() as ClientDuplexStream<ProbeRequest, ProbeReply>;
    const replies: ProbeReply[] = [];
    const done = collect(call, (message) => replies.push(message));
    for (let i = 0; i < 5; i++) {
      call.write({ text: `b${i}` });
      await waitFor(() => replies.length === i + 1, { description: `reply ${i}` });
      expect(replies[i]).toMatchObject({ text: `b${i}`, index: i, backend: 'alpha' });
    }
    call.end();
    const outcome = await done;
    expect(outcome.status.code).toBe(0);
    expect(outcome.messages).toHaveLength(5);
  });

  it('carries an 8 MiB message both ways', async () => {
    const payload = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4096) payload[i] = i % 251;
    const outcome = await unary(client, { text: 'big', payload });
    expect(outcome.error).toBeUndefined();
    expect(outcome.reply?.payload.equals(payload)).toBe(true);
  });

  it('forwards grpc-timeout to the backend', async () => {
    const before = backend.calls.length;
    const deadline = Date.now() + 5000;
    const outcome = await unary(client, { text: 't' }, undefined, { deadline });
    expect(outcome.error).toBeUndefined();
    const seen = backend.calls[before]?.deadline ?? Number.POSITIVE_INFINITY;
    expect(Math.abs(seen - deadline)).toBeLessThan(500);
  });

  it('honours a grpc-timeout longer than node timers reach (24.8 days) instead of failing at once', async () => {
    // The grpc-js backend fails such a deadline at once itself: the forwarded value is capped.
    for (const days of [25, 30, 365]) {
      const outcome = await unary(client, { text: 'patient' }, undefined, {
        deadline: Date.now() + days * 24 * 3600 * 1000,
      });
      expect(outcome.error).toBeUndefined();
      expect(outcome.reply?.text).toBe('patient');
    }
  });

  it('enforces grpc-timeout itself: DEADLINE_EXCEEDED even if the upstream ignores it', async () => {
    const started = Date.now();
    const outcome = await unary(
      client,
      { text: 'x' },
      undefined,
      { deadline: Date.now() + 300 },
      '/hole.v1.Probe/Unary',
    );
    expect(outcome.error?.code).toBe(4);
    expect(Date.now() - started).toBeLessThan(1500);
    await waitFor(() => blackHole.cancelled > 0, { description: 'the upstream stream to be cancelled' });
  });

  it('answers an already expired grpc-timeout (0n) with DEADLINE_EXCEEDED without calling the upstream', async () => {
    const before = backend.calls.length;
    const session = connect(`http://${gw.address}`);
    try {
      for (let i = 0; i < 20; i++) {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/probe.v1.Probe/Unary',
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': '0n',
        });
        const trailers = new Promise<Record<string, unknown>>((resolve) => {
          stream.on('response', (headers) => {
            if (headers['grpc-status'] !== undefined) resolve(headers);
          });
          stream.on('trailers', (headers) => resolve(headers));
        });
        stream.resume();
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
        expect(await trailers).toMatchObject({ 'grpc-status': '4', 'grpc-message': 'deadline exceeded' });
      }
    } finally {
      session.close();
    }
    expect(backend.calls.length).toBe(before);
  });

  it('propagates client cancellation to the backend within a second', async () => {
    const before = backend.cancellations;
    const call = client.ServerStream?.({ count: 0, interval_ms: 20 }) as ClientReadableStream<ProbeReply>;
    await new Promise((resolve) => call.once('data', resolve));
    call.on('error', () => undefined);
    const cancelledAt = Date.now();
    call.cancel();
    await waitFor(() => backend.cancellations > before, {
      description: 'the backend to see the cancel',
      timeoutMs: 1000,
    });
    expect(Date.now() - cancelledAt).toBeLessThan(1000);
  });

  it('refuses a request message over MAX_MESSAGE_BYTES with RESOURCE_EXHAUSTED', async () => {
    const outcome = await unary(client, { payload: Buffer.alloc(16 * 1024 * 1024 + 10) });
    expect(outcome.error?.code).toBe(8);
    expect(outcome.error?.details).toMatch(/exceeds the limit of 16777216 bytes/);
  });

  it('answers UNIMPLEMENTED `method not routed` for an unknown method', async () => {
    const outcome = await unary(client, {}, undefined, {}, '/grpc.health.v1.Health/Check');
    expect(outcome.error?.code).toBe(12);
    expect(outcome.error?.details).toBe('method not routed');
  });

  it('answers UNAVAILABLE `backend service unavailable` when a static backend is down', async () => {
    const outcome = await unary(client, {}, undefined, {}, '/dead.v1.Svc/Call');
    expect(outcome.error?.code).toBe(14);
    expect(outcome.error?.details).toBe('backend service unavailable');
  });

  it('carries 1,000 concurrent streams over one client connection', async () => {
    const connectionsBefore = gw.gateway.stats().upstreamConnectionsCreated;
    const calls = Array.from({ length: 1000 }, (_, i) => unary(client, { text: `c${i}`, delay_ms: 50 }));
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o.error !== undefined)).toEqual([]);
    expect(outcomes.map((o) => o.reply?.text)).toEqual(Array.from({ length: 1000 }, (_, i) => `c${i}`));
    // One pooled upstream connection carried them all (no hidden reconnects).
    expect(gw.gateway.stats().upstreamConnectionsCreated).toBe(connectionsBefore);
    expect(gw.gateway.stats().downstreamConnections).toBeGreaterThanOrEqual(1);
  });

  it('answers HTTP/1 and non-gRPC requests with a clear error', async () => {
    const socket = tcpConnect(gw.port, '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    await once(socket, 'close');
    expect(text).toMatch(/^HTTP\/1\.1 505 /);
    expect(text).toContain('gRPC over HTTP/2');

    const session = connect(`http://127.0.0.1:${gw.port}`);
    try {
      for (const [headers, status] of [
        [{ ':method': 'POST', ':path': '/probe.v1.Probe/Unary', 'content-type': 'application/json' }, 415],
        [{ ':method': 'GET', ':path': '/probe.v1.Probe/Unary' }, 405],
      ] as const) {
        const stream = session.request(headers);
        stream.end();
        const [response] = (await once(stream, 'response')) as [Record<string, unknown>];
        expect(response[':status']).toBe(status);
        stream.resume();
        await once(stream, 'close');
      }
    } finally {
      session.close();
    }
  });
});
