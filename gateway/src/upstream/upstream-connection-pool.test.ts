import { once } from 'node:events';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Http2Stream, StreamHandler } from '../h2/stream.js';
import { UpstreamConnection } from './upstream-connection.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ignore: StreamHandler = {
  onHeaders() {},
  onData(stream: Http2Stream, data: Buffer) {
    stream.credit(data.length);
  },
  onTrailers() {},
  onEnd() {},
  onWritten() {},
  onClose() {},
};

/**
 * An HTTP/2 peer that completes the SETTINGS exchange, then reads and ignores everything: it never
 * sends WINDOW_UPDATE, so a connection's 64 KiB window, once used, stays used.
 */
async function startWindowless(): Promise<number> {
  const sockets: Socket[] = [];
  const server = createTcpServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.write(Buffer.from('000000040000000000' + '000000040100000000', 'hex'));
    socket.resume();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

describe('UpstreamConnection pool', () => {
  it('opens another connection only while every open one has used up its connection window', async () => {
    const port = await startWindowless();
    const upstream = new UpstreamConnection(`127.0.0.1:${port}`, '127.0.0.1', port, {
      connectTimeoutMs: 1000,
      keepaliveIntervalMs: 0,
      keepaliveTimeoutMs: 100,
    });
    cleanups.push(() => upstream.close());
    const fields = [':method', 'POST', ':scheme', 'http', ':path', '/upload', ':authority', 'test'];
    const first = await upstream.connect();
    // Small streams do not grow the pool.
    for (let i = 0; i < 10; i++) upstream.request(first, fields, false, ignore).write(Buffer.alloc(100));
    expect(upstream.openConnection).toBe(first);
    // 64 KiB of DATA uses up the peer's default connection window: the next stream needs a new connection.
    upstream.request(first, fields, false, ignore).write(Buffer.alloc(70_000));
    expect(first.sendWindowExhausted).toBe(true);
    expect(upstream.openConnection).toBeUndefined();
    const second = await upstream.connect();
    expect(second).not.toBe(first);
    expect(upstream.connectionsCreated).toBe(2);
    expect(upstream.openConnection).toBe(second);
    // At most 8: once all are exhausted, the pool reuses them instead of growing.
    for (let i = 0; i < 20; i++) {
      const connection = upstream.openConnection ?? (await upstream.connect());
      upstream.request(connection, fields, false, ignore).write(Buffer.alloc(70_000));
    }
    expect(upstream.connectionsCreated).toBe(8);
    expect(upstream.openConnection).toBeDefined();
  });
});
