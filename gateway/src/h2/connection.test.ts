import { randomBytes } from 'node:crypto';
import {
  type ClientHttp2Session,
  type Http2Server,
  type IncomingHttpHeaders,
  connect as nodeConnect,
  createServer as nodeCreateServer,
} from 'node:http2';
import { http2Exchange } from '@stickygw/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { connectH2 } from './client.js';
import type { Http2Connection } from './connection.js';
import { ErrorCode } from './constants.js';
import { H2Server } from './server.js';
import type { HeaderFields, Http2Stream, StreamHandler } from './stream.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function field(fields: HeaderFields, name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Collects what one stream receives (client role), crediting every byte at once. */
class Collector implements StreamHandler {
  headers: HeaderFields | undefined;
  trailers: HeaderFields | undefined;
  chunks: Buffer[] = [];
  closeCode = -1;
  refused = false;
  readonly done: Promise<void>;
  private resolve!: () => void;
  constructor(private readonly autoCredit = true) {
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }
  onHeaders(_stream: Http2Stream, fields: HeaderFields): void {
    this.headers = fields;
  }
  onData(stream: Http2Stream, data: Buffer): void {
    this.chunks.push(Buffer.from(data));
    if (this.autoCredit) stream.credit(data.length);
  }
  onTrailers(_stream: Http2Stream, fields: HeaderFields): void {
    this.trailers = fields;
  }
  onEnd(): void {}
  onWritten(): void {}
  onClose(_stream: Http2Stream, code: number, _remote: boolean, refused: boolean): void {
    this.closeCode = code;
    this.refused = refused;
    this.resolve();
  }
  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Server-side echo: answers 200, echoes the body, ends with trailers `x-bytes`. */
class EchoHandler implements StreamHandler {
  private readonly received = new Map<Http2Stream, number>();
  onHeaders(): void {}
  onData(stream: Http2Stream, data: Buffer): void {
    this.received.set(stream, (this.received.get(stream) ?? 0) + data.length);
    const sent = stream.write(data);
    if (sent > 0) stream.credit(sent);
    const rest = data.length - sent;
    if (rest > 0) (stream.context as { owed: number }).owed += rest;
  }
  onTrailers(): void {}
  onEnd(stream: Http2Stream): void {
    stream.sendTrailers(['x-bytes', String(this.received.get(stream) ?? 0)]);
  }
  onWritten(stream: Http2Stream, bytes: number): void {
    (stream.context as { owed: number }).owed -= bytes;
    stream.credit(bytes);
  }
  onClose(stream: Http2Stream): void {
    this.received.delete(stream);
  }
}

async function startEchoServer(): Promise<{ server: H2Server; port: number }> {
  const echo = new EchoHandler();
  const server = new H2Server({
    onStream(stream, fields) {
      stream.handler = echo;
      stream.context = { owed: 0 };
      stream.respond([
        ':status',
        '200',
        'content-type',
        'application/octet-stream',
        'x-path',
        field(fields, ':path') ?? '',
      ]);
    },
  });
  const port = await server.listen(0);
  cleanups.push(() => server.close(100));
  return { server, port };
}

function nodeClient(port: number): ClientHttp2Session {
  const session = nodeConnect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  cleanups.push(() => {
    session.destroy();
  });
  return session;
}

async function nodeRequest(
  session: ClientHttp2Session,
  body: Buffer,
  path = '/echo',
): Promise<{ headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders; body: Buffer }> {
  const answer = await http2Exchange(session, { ':method': 'POST', ':path': path }, body);
  if (answer.error !== undefined) throw answer.error;
  return { headers: answer.headers ?? {}, trailers: answer.trailers ?? {}, body: answer.body };
}

describe('server role, node:http2 as the client', () => {
  it('answers requests of every size with headers, body and trailers', async () => {
    const { port } = await startEchoServer();
    const session = nodeClient(port);
    for (const size of [0, 1, 20, 16_384, 16_385, 1024 * 1024, 8 * 1024 * 1024]) {
      const body = randomBytes(size);
      const res = await nodeRequest(session, body, `/size/${size}`);
      expect(res.headers[':status']).toBe(200);
      expect(res.headers['x-path']).toBe(`/size/${size}`);
      expect(res.trailers['x-bytes']).toBe(String(size));
      expect(res.body.equals(body)).toBe(true);
    }
  });

  it('serves 500 concurrent streams on one connection', async () => {
    const { port } = await startEchoServer();
    const session = nodeClient(port);
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) => nodeRequest(session, Buffer.from(`call ${i}`))),
    );
    results.forEach((res, i) => {
      expect(res.body.toString()).toBe(`call ${i}`);
    });
  });

  it('closes gracefully: streams in flight finish, then the connection closes', async () => {
    let held: Http2Stream | undefined;
    const server = new H2Server({
      onStream(stream) {
        held = stream;
        stream.handler = new Collector();
        stream.respond([':status', '200']);
      },
    });
    const port = await server.listen(0);
    const session = nodeClient(port);
    const req = session.request({ ':method': 'POST', ':path': '/slow' });
    req.on('error', () => {});
    req.end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise<void>((resolve) => req.on('end', () => resolve()));
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
    await new Promise((r) => setTimeout(r, 50));
    const closing = server.close(3000);
    await goaway;
    held?.write(Buffer.from('late answer'));
    held?.sendTrailers(['x-done', '1']);
    await ended;
    await closing;
    expect(Buffer.concat(chunks).toString()).toBe('late answer');
    expect(server.connections.size).toBe(0);
  });
});

describe('client role, node:http2 as the server', () => {
  let server: Http2Server;
  async function startNodeServer(onStream: Parameters<Http2Server['on']>[1]): Promise<number> {
    server = nodeCreateServer();
    server.on('stream', onStream as never);
    server.on('sessionError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of sessions) s.destroy();
        }),
    );
    const sessions = new Set<import('node:http2').ServerHttp2Session>();
    server.on('session', (s) => {
      sessions.add(s);
      s.on('close', () => sessions.delete(s));
    });
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  async function connect(port: number): Promise<Http2Connection> {
    const connection = await connectH2({ host: '127.0.0.1', port });
    cleanups.push(() => connection.destroy());
    return connection;
  }

  const REQUEST = [':method', 'POST', ':scheme', 'http', ':path', '/echo', ':authority', 'test'];

  it('sends requests and receives headers, body and trailers of every size', async () => {
    const port = await startNodeServer((stream: import('node:http2').ServerHttp2Stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'x-echo': 'yes' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(Buffer.concat(chunks));
      });
    });
    const connection = await connect(port);
    for (const size of [0, 5, 16_384, 100_000, 8 * 1024 * 1024]) {
      const body = randomBytes(size);
      const collector = new Collector();
      const stream = connection.request(REQUEST, false, collector);
      let offset = 0;
      // Writes that do not go out at once are queued: write everything, then end.
      while (offset < body.length) {
        const chunk = body.subarray(offset, offset + 65_536);
        stream.write(chunk);
        offset += chunk.length;
      }
      stream.end();
      await collector.done;
      expect(collector.closeCode).toBe(ErrorCode.NO_ERROR);
      expect(field(collector.headers ?? [], ':status')).toBe('200');
      expect(field(collector.headers ?? [], 'x-echo')).toBe('yes');
      expect(field(collector.trailers ?? [], 'grpc-status')).toBe('0');
      expect(collector.body.equals(body)).toBe(true);
    }
  });

  it('reports a trailers-only answer and a reset from the server', async () => {
    const port = await startNodeServer(
      (stream: import('node:http2').ServerHttp2Stream, headers: IncomingHttpHeaders) => {
        if (headers[':path'] === '/reset') {
          stream.close(ErrorCode.CANCEL);
          return;
        }
        stream.respond({ ':status': 200, 'grpc-status': '12' }, { endStream: true });
      },
    );
    const connection = await connect(port);
    const only = new Collector();
    connection.request(REQUEST, true, only);
    await only.done;
    expect(field(only.headers ?? [], 'grpc-status')).toBe('12');
    expect(only.closeCode).toBe(ErrorCode.NO_ERROR);
    const reset = new Collector();
    connection.request(
      [':method', 'POST', ':scheme', 'http', ':path', '/reset', ':authority', 'x'],
      true,
      reset,
    );
    await reset.done;
    expect(reset.closeCode).toBe(ErrorCode.CANCEL);
  });

  it('a stream whose reader stalls holds back only itself', async () => {
    const big = randomBytes(4 * 1024 * 1024);
    const port = await startNodeServer(
      (stream: import('node:http2').ServerHttp2Stream, headers: IncomingHttpHeaders) => {
        stream.respond({ ':status': 200 });
        stream.end(headers[':path'] === '/big' ? big : Buffer.from('small'));
      },
    );
    const connection = await connect(port);
    const stalled = new Collector(false);
    connection.request(
      [':method', 'GET', ':scheme', 'http', ':path', '/big', ':authority', 'x'],
      true,
      stalled,
    );
    await new Promise((r) => setTimeout(r, 100));
    // The stalled stream got one window's worth and waits; others still flow on the same connection.
    const received = stalled.body.length;
    expect(received).toBeLessThanOrEqual(connection.settings.initialWindowSize);
    for (let i = 0; i < 20; i++) {
      const small = new Collector();
      connection.request(
        [':method', 'GET', ':scheme', 'http', ':path', '/small', ':authority', 'x'],
        true,
        small,
      );
      await small.done;
      expect(small.body.toString()).toBe('small');
    }
    expect(stalled.closeCode).toBe(-1);
  });

  it('streams above the GOAWAY last stream id are refused, the connection drains', async () => {
    const port = await startNodeServer((stream: import('node:http2').ServerHttp2Stream) => {
      setTimeout(() => {
        if (stream.closed) return;
        stream.respond({ ':status': 200 });
        stream.end('ok');
      }, 100);
      stream.session?.goaway(0, 1);
    });
    const connection = await connect(port);
    const first = new Collector();
    connection.request(REQUEST, true, first);
    await new Promise((r) => setTimeout(r, 20));
    const second = new Collector();
    // A stream opened before the GOAWAY arrives, above its last stream id.
    try {
      connection.request(REQUEST, true, second);
    } catch {
      second.refused = true;
      second.closeCode = ErrorCode.REFUSED_STREAM;
    }
    await first.done;
    expect(first.body.toString()).toBe('ok');
    if (second.closeCode === -1) await second.done;
    expect(second.refused).toBe(true);
    expect(connection.isOpen).toBe(false);
  });

  it('refuses to connect to a port that does not speak HTTP/2', async () => {
    const { createServer } = await import('node:net');
    const tcp = createServer((socket) => {
      socket.resume();
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => tcp.close(() => resolve())));
    const address = tcp.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await expect(connectH2({ host: '127.0.0.1', port, timeoutMs: 2000 })).rejects.toThrow(/handshake|closed/);
  });
});

describe('both roles together', () => {
  it('our client through our server: many streams, large bodies, PING', async () => {
    const { port } = await startEchoServer();
    const connection = await connectH2({ host: '127.0.0.1', port });
    cleanups.push(() => connection.destroy());
    const rtt = await new Promise<number>((resolve, reject) =>
      connection.ping((err, ms) => (err === undefined ? resolve(ms) : reject(err))),
    );
    expect(rtt).toBeGreaterThanOrEqual(0);
    const bodies = Array.from({ length: 50 }, (_, i) => randomBytes(i * 7919));
    const collectors = bodies.map((body) => {
      const collector = new Collector();
      const stream = connection.request(
        [':method', 'POST', ':scheme', 'http', ':path', '/e', ':authority', 'x'],
        false,
        collector,
      );
      stream.write(body);
      stream.end();
      return collector;
    });
    await Promise.all(collectors.map((c) => c.done));
    collectors.forEach((c, i) => {
      expect(c.body.equals(bodies[i] as Buffer)).toBe(true);
      expect(field(c.trailers ?? [], 'x-bytes')).toBe(String((bodies[i] as Buffer).length));
    });
  });
});

describe('when output is written', () => {
  /**
   * A server whose handler sends response headers inside the read that carried the request and notes, for
   * each socket write, whether it came before a setImmediate queued in that read: before it means
   * the write happened within the read's own callback.
   */
  type Phase = 'in read' | 'end of turn' | 'timer';
  async function startAnsweringServer(): Promise<{ port: number; writes: Phase[] }> {
    const writes: Phase[] = [];
    let phase: Phase = 'timer';
    const spied = new WeakSet<Http2Connection>();
    const server = new H2Server({
      onStream(stream) {
        const socket = stream.connection.socket;
        if (!spied.has(stream.connection)) {
          spied.add(stream.connection);
          const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
          socket.write = ((chunk: Buffer) => {
            writes.push(phase);
            return write(chunk);
          }) as typeof socket.write;
        }
        phase = 'in read';
        setImmediate(() => {
          phase = 'end of turn';
        });
        // The answer's end comes later: the stream stays open past the read, as a proxied call's does.
        stream.respond([':status', '200'], false);
        setTimeout(() => {
          phase = 'timer';
          stream.end();
        }, 5);
      },
    });
    const port = await server.listen(0);
    cleanups.push(() => server.close(100));
    return { port, writes };
  }

  function requestsInOneWrite(port: number, count: number): Promise<Collector[]> {
    return connectH2({ host: '127.0.0.1', port }).then(async (connection) => {
      cleanups.push(() => connection.destroy());
      // Settle the SETTINGS exchange first, so the requests are all that the next read carries.
      await new Promise<void>((resolve, reject) =>
        connection.ping((err) => (err === undefined ? resolve() : reject(err))),
      );
      const collectors = Array.from({ length: count }, () => {
        const collector = new Collector();
        connection.request(
          [':method', 'GET', ':scheme', 'http', ':path', '/', ':authority', 'x'],
          true,
          collector,
        );
        return collector;
      });
      await Promise.all(collectors.map((c) => c.done));
      return collectors;
    });
  }

  it('a connection carrying one stream is written within the read that produced its output', async () => {
    const { port, writes } = await startAnsweringServer();
    const [collector] = await requestsInOneWrite(port, 1);
    expect(field(collector?.headers ?? [], ':status')).toBe('200');
    expect(writes.filter((phase) => phase !== 'timer')).toEqual(['in read']);
  });

  it('a connection carrying several streams is written once, at the end of the turn', async () => {
    const { port, writes } = await startAnsweringServer();
    const before = writes.length;
    const collectors = await requestsInOneWrite(port, 8);
    expect(collectors.every((c) => field(c.headers ?? [], ':status') === '200')).toBe(true);
    // The 8 streams' headers leave in one write, after the read's callbacks.
    expect(writes.slice(before).filter((phase) => phase !== 'timer')).toEqual(['end of turn']);
  });
});
