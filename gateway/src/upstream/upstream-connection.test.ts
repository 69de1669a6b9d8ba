import { once } from 'node:events';
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import { type AddressInfo, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { getFreePort, waitFor } from '@stickygw/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../grpc/gateway-error.js';
import type { Http2Stream, StreamHandler } from '../h2/stream.js';
import { UpstreamConnection, type UpstreamConnectionOptions } from './upstream-connection.js';

const FAST: UpstreamConnectionOptions = {
  connectTimeoutMs: 300,
  keepaliveIntervalMs: 0,
  keepaliveTimeoutMs: 100,
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Listens on 127.0.0.1 and a free port; after the test, destroys what it accepted and closes it. */
async function listenLocal(server: Server, accepted: readonly { destroy(): void }[]): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const connection of accepted) connection.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function startH2(): Promise<{ server: Http2Server; port: number; sessions: ServerHttp2Session[] }> {
  const server = createServer();
  const sessions: ServerHttp2Session[] = [];
  server.on('session', (session) => sessions.push(session));
  server.on('stream', (stream, headers) => {
    if (headers[':path'] === '/hold') return;
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  const port = await listenLocal(server, sessions);
  return { server, port, sessions };
}

/** A TCP server that completes the HTTP/2 SETTINGS exchange and then ignores everything (no PING ACK). */
async function startMute(speak = true): Promise<number> {
  const sockets: Socket[] = [];
  const server: Server = createTcpServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    if (speak) socket.write(Buffer.from('000000040000000000' + '000000040100000000', 'hex'));
    socket.resume();
  });
  return listenLocal(server, sockets);
}

/**
 * A hand-made peer (the fault cannot be provoked with a real server in this process): it answers
 * every PING at once, then holds this process's event loop for `holdMs` after the first answer, so
 * the keepalive timer falls due while the answer waits unread in the gateway's socket.
 */
async function startAckThenHold(holdMs: number): Promise<{ port: number; pingsAnswered: () => number }> {
  const sockets: Socket[] = [];
  let answered = 0;
  const server: Server = createTcpServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.write(Buffer.from('000000040000000000' + '000000040100000000', 'hex'));
    let pending = Buffer.alloc(0);
    let prefaceLeft = 24;
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const skipped = Math.min(prefaceLeft, pending.length);
      pending = pending.subarray(skipped);
      prefaceLeft -= skipped;
      while (pending.length >= 9) {
        const length = pending.readUIntBE(0, 3);
        if (pending.length < 9 + length) break;
        if (pending[3] === 6 && ((pending[4] ?? 0) & 1) === 0) {
          const ack = Buffer.alloc(17);
          ack.writeUIntBE(8, 0, 3);
          ack[3] = 6;
          ack[4] = 1;
          pending.copy(ack, 9, 9, 17);
          socket.write(ack);
          answered += 1;
          if (answered === 1) {
            const until = performance.now() + holdMs;
            while (performance.now() < until) {
              // hold the loop, as a burst of calls would
            }
          }
        }
        pending = pending.subarray(9 + length);
      }
    });
  });
  const port = await listenLocal(server, sockets);
  return { port, pingsAnswered: () => answered };
}

function track(upstream: UpstreamConnection): UpstreamConnection {
  cleanups.push(() => upstream.close());
  return upstream;
}

function upstreamTo(port: number, options: UpstreamConnectionOptions = FAST): UpstreamConnection {
  return new UpstreamConnection(`127.0.0.1:${port}`, '127.0.0.1', port, options);
}

function requestFields(path: string): string[] {
  return [':method', 'POST', ':scheme', 'http', ':path', path, ':authority', 'test'];
}

/** Collects a response body; `closed` resolves when the stream closes. */
class Reader implements StreamHandler {
  body = '';
  closed = false;
  readonly done: Promise<void>;
  private resolve!: () => void;
  constructor() {
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }
  onHeaders(): void {}
  onData(stream: Http2Stream, data: Buffer): void {
    this.body += data.toString('utf8');
    stream.credit(data.length);
  }
  onTrailers(): void {}
  onEnd(): void {}
  onWritten(): void {}
  onClose(): void {
    this.closed = true;
    this.resolve();
  }
}

async function get(upstream: UpstreamConnection, path = '/'): Promise<string> {
  const http = await upstream.connect();
  const reader = new Reader();
  upstream.request(http, requestFields(path), true, reader);
  await reader.done;
  return reader.body;
}

describe('UpstreamConnection state machine', () => {
  it('idle → connecting → open, sharing one connect between concurrent callers', async () => {
    const { port } = await startH2();
    const upstream = track(upstreamTo(port));
    expect(upstream.state).toBe('idle');
    expect(upstream.openConnection).toBeUndefined();
    const [a, b] = await Promise.all([upstream.connect(), upstream.connect()]);
    expect(a).toBe(b);
    expect(upstream.state).toBe('open');
    expect(upstream.openConnection).toBe(a);
    expect(await get(upstream)).toBe('ok');
    expect(upstream.connectionsCreated).toBe(1);
  });

  it('rejects a refused connect as a transport failure and goes back to idle', async () => {
    const port = await getFreePort();
    const upstream = track(upstreamTo(port));
    const error = await upstream.connect().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).reason).toBe('upstream_connect_failed');
    expect((error as GatewayError).isTransportFailure).toBe(true);
    expect(upstream.state).toBe('idle');
  });

  it('times out a peer that accepts TCP but never speaks HTTP/2', async () => {
    const port = await startMute(false);
    const upstream = track(upstreamTo(port, { ...FAST, connectTimeoutMs: 150 }));
    const error = await upstream.connect().catch((err: unknown) => err);
    expect((error as GatewayError).reason).toBe('upstream_connect_failed');
    expect((error as GatewayError).message).toContain('timed out');
    expect(upstream.state).toBe('idle');
  });

  it('reconnects lazily after the peer drops the connection', async () => {
    const { port, sessions } = await startH2();
    const upstream = track(upstreamTo(port));
    await get(upstream);
    sessions[0]?.destroy();
    await waitFor(() => upstream.state === 'idle', { description: 'the upstream to notice the drop' });
    expect(await get(upstream)).toBe('ok');
    expect(upstream.connectionsCreated).toBe(2);
  });

  it('on GOAWAY stops using the connection at once, lets its streams finish, and opens a new one', async () => {
    const { port, sessions } = await startH2();
    const upstream = track(upstreamTo(port));
    const http = await upstream.connect();
    const heldReader = new Reader();
    const held = upstream.request(http, requestFields('/hold'), true, heldReader);
    expect(held.id).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    sessions[0]?.goaway(0, 1);
    await waitFor(() => upstream.state === 'idle', { description: 'the GOAWAY to detach the connection' });
    expect(heldReader.closed).toBe(false);
    expect(await get(upstream)).toBe('ok');
    expect(upstream.connectionsCreated).toBe(2);
    held.reset();
  });

  it('counts a stream in flight from request() until its release()', async () => {
    const { port } = await startH2();
    const upstream = track(upstreamTo(port));
    expect(upstream.streamsInFlight).toBe(0);
    const http = await upstream.connect();
    const reader = new Reader();
    upstream.request(http, requestFields('/'), true, reader);
    expect(upstream.streamsInFlight).toBe(1);
    await reader.done;
    upstream.release();
    expect(upstream.streamsInFlight).toBe(0);
  });

  it('closed is terminal: connections destroyed, connect refused', async () => {
    const { port } = await startH2();
    const upstream = upstreamTo(port);
    const http = await upstream.connect();
    upstream.close();
    expect(upstream.state).toBe('closed');
    expect(http.state).toBe('closed');
    await expect(upstream.connect()).rejects.toMatchObject({ reason: 'upstream_connect_failed' });
  });

  it('keeps a connection whose PING answer arrived in time while the gateway was busy past the timeout', async () => {
    const peer = await startAckThenHold(400);
    const upstream = track(
      upstreamTo(peer.port, { connectTimeoutMs: 1000, keepaliveIntervalMs: 50, keepaliveTimeoutMs: 100 }),
    );
    const http = await upstream.connect();
    upstream.request(http, requestFields('/'), true, new Reader());
    await waitFor(() => peer.pingsAnswered() >= 1, { description: 'the PING answered', timeoutMs: 5000 });
    // Past the keepalive timeout again, with the loop free: the answer was read, nothing expires.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(http.state).not.toBe('closed');
  });

  it('destroys a connection whose PING goes unanswered while streams are active', async () => {
    const port = await startMute();
    const upstream = track(
      upstreamTo(port, {
        connectTimeoutMs: 1000,
        keepaliveIntervalMs: 50,
        keepaliveTimeoutMs: 100,
      }),
    );
    const http = await upstream.connect();
    const reader = new Reader();
    upstream.request(http, requestFields('/'), true, reader);
    await waitFor(() => http.state === 'closed', {
      description: 'keepalive to destroy the silent connection',
      timeoutMs: 3000,
    });
    await waitFor(() => reader.closed, { description: 'the stream to fail' });
    await waitFor(() => upstream.state === 'idle', { description: 'the upstream to go idle' });
  });
});
