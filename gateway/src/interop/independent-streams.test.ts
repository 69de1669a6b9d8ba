import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  createServer,
  type Http2Server,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { ManagedProcess } from '@stickygw/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { route, type StartedGateway, startTestGateway, staticCluster } from '../test-support/test-gateway.js';

const PREFIX = '/flood.v1.Flood/';
const KIB = 1024;
const MIB = 1024 * 1024;
/** One flood message: 16 KiB of payload. */
const FLOOD_PAYLOAD_BYTES = 16 * KIB;
const B_CALLS = 200;
const B_CONNECTIONS = 4;
const B_PAYLOAD = Buffer.alloc(KIB, 0x42);
/** Allowed slowdown of B's calls while A is stalled: < SLOWDOWN × baseline + SLACK_MS. */
const SLOWDOWN = 3;
const SLACK_MS = 300;
/** Allowed growth of this process' RSS (gateway, backend and clients run in it) while A is stalled. */
const RSS_GROWTH_BYTES = 96 * MIB;

function grpcFrame(payload: Buffer): Buffer {
  const frame = Buffer.alloc(5 + payload.length);
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, 5);
  return frame;
}

const EMPTY_MESSAGE = grpcFrame(Buffer.alloc(0));
const FLOOD_MESSAGE = grpcFrame(Buffer.alloc(FLOOD_PAYLOAD_BYTES, 7));

/** VmRSS of this process, in bytes. */
function rss(): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

/** Checks the framing of a flood response as it arrives: every message is FLOOD_PAYLOAD_BYTES. */
class FloodReader {
  messages = 0;
  bytes = 0;
  malformed = false;
  private readonly header = Buffer.alloc(5);
  private headerFill = 0;
  private bodyLeft = 0;

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, chunk.length - i);
        i += n;
        this.bodyLeft -= n;
        if (this.bodyLeft === 0) this.messages++;
        continue;
      }
      const n = Math.min(5 - this.headerFill, chunk.length - i);
      chunk.copy(this.header, this.headerFill, i, i + n);
      this.headerFill += n;
      i += n;
      if (this.headerFill === 5) {
        this.headerFill = 0;
        this.bodyLeft = this.header.readUInt32BE(1);
        if (this.header[0] !== 0 || this.bodyLeft !== FLOOD_PAYLOAD_BYTES) this.malformed = true;
      }
    }
  }
}

/**
 * A node:http2 backend (nghttp2 underneath, as in grpc-js):
 * - `Flood`: an endless server stream, written as fast as flow control lets it (`floodWritten`).
 * - `Echo`: a unary echo of the request body, `grpc-status: 0`.
 * - `Sink`: answers headers and stops reading the request until `releaseSinks()`; then reads it
 *   to the end and answers with the byte count in `grpc-message`.
 */
class FloodBackend {
  sessions = 0;
  floodWritten = 0;
  floodStreams = 0;
  floodCancelled = 0;
  sinkStreams = 0;
  private readonly open = new Set<ServerHttp2Session>();
  private readonly sinks = new Set<ServerHttp2Stream>();

  private constructor(
    private readonly server: Http2Server,
    readonly port: number,
  ) {}

  static async start(): Promise<FloodBackend> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const backend = new FloodBackend(server, (server.address() as AddressInfo).port);
    server.on('session', (session) => {
      backend.sessions++;
      backend.open.add(session);
      session.on('error', () => undefined);
      session.on('close', () => backend.open.delete(session));
    });
    server.on('stream', (stream, headers) => {
      stream.on('error', () => undefined);
      const path = headers[':path'];
      if (path === `${PREFIX}Flood`) backend.flood(stream);
      else if (path === `${PREFIX}Echo`) backend.echo(stream);
      else if (path === `${PREFIX}Sink`) backend.sink(stream);
      else
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' },
          { endStream: true },
        );
    });
    return backend;
  }

  private flood(stream: ServerHttp2Stream): void {
    this.floodStreams++;
    stream.resume();
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    const pump = (): void => {
      for (;;) {
        if (stream.destroyed || stream.closed) return;
        this.floodWritten += FLOOD_MESSAGE.length;
        if (!stream.write(FLOOD_MESSAGE)) return;
      }
    };
    stream.on('drain', pump);
    stream.on('close', () => {
      if (stream.rstCode === constants.NGHTTP2_CANCEL) this.floodCancelled++;
    });
    pump();
  }

  private echo(stream: ServerHttp2Stream): void {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      if (stream.destroyed) return;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.concat(chunks));
    });
  }

  private sink(stream: ServerHttp2Stream): void {
    this.sinkStreams++;
    this.sinks.add(stream);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.pause();
    let received = 0;
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    stream.on('end', () => {
      if (stream.destroyed) return;
      stream.on('wantTrailers', () =>
        stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': `received ${received}` }),
      );
      stream.end();
    });
    stream.on('close', () => this.sinks.delete(stream));
  }

  /** The `Sink` streams start reading their requests. */
  releaseSinks(): void {
    for (const stream of this.sinks) stream.resume();
  }

  async stop(): Promise<void> {
    for (const session of this.open) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface EchoResult {
  readonly grpcStatus: string | undefined;
  readonly body: Buffer;
}

function request(session: ClientHttp2Session, method: string): ClientHttp2Stream {
  return session.request({
    ':method': 'POST',
    ':path': `${PREFIX}${method}`,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
}

/** One unary call, failing (not hanging) after 5 s. */
function echo(session: ClientHttp2Session, payload: Buffer): Promise<EchoResult> {
  return new Promise((resolve, reject) => {
    const stream = request(session, 'Echo');
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    const timer = setTimeout(() => {
      stream.close(constants.NGHTTP2_CANCEL);
      reject(new Error('an Echo call took over 5 s'));
    }, 5000);
    stream.on('response', (headers) => {
      grpcStatus ??= headers['grpc-status'] as string | undefined;
    });
    stream.on('trailers', (trailers) => {
      grpcStatus = trailers['grpc-status'] as string | undefined;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    stream.on('close', () => {
      clearTimeout(timer);
      resolve({ grpcStatus, body: Buffer.concat(chunks) });
    });
    stream.end(grpcFrame(payload));
  });
}

async function connected(address: string): Promise<ClientHttp2Session> {
  const session = connect(`http://${address}`);
  session.on('error', () => undefined);
  await once(session, 'remoteSettings');
  return session;
}

/**
 * Clients B: B_CALLS unary 1 KiB echo calls, sequential on each of the sessions, the sessions in
 * parallel. Every call must succeed with its payload echoed. Returns the wall time in ms.
 */
async function runB(sessions: readonly ClientHttp2Session[], calls = B_CALLS): Promise<number> {
  const started = performance.now();
  const perSession = Math.ceil(calls / sessions.length);
  const expected = grpcFrame(B_PAYLOAD);
  await Promise.all(
    sessions.map(async (session) => {
      for (let i = 0; i < perSession; i++) {
        const result = await echo(session, B_PAYLOAD);
        if (result.grpcStatus !== '0' || !result.body.equals(expected)) {
          throw new Error(`a B call failed: grpc-status ${result.grpcStatus}, ${result.body.length} bytes`);
        }
      }
    }),
  );
  return performance.now() - started;
}

/** Waits until `read()` stopped changing for `stableMs`; returns its value. */
async function plateau(
  read: () => number,
  description: string,
  stableMs = 300,
  timeoutMs = 8000,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let value = read();
  let since = performance.now();
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    const now = read();
    if (now !== value) {
      value = now;
      since = performance.now();
    } else if (value > 0 && performance.now() - since >= stableMs) {
      return value;
    }
  }
  throw new Error(`${description} did not stop growing within ${timeoutMs} ms (at ${value})`);
}

/** Samples RSS every 20 ms until stopped; `max` is the largest seen. */
function rssSampler(): { stop(): number } {
  let max = rss();
  const timer = setInterval(() => {
    max = Math.max(max, rss());
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(max, rss());
    },
  };
}

/**
 * A node:http2 client in a child process, so that it can be frozen for real (SIGSTOP): it reads
 * nothing, its socket buffers fill, and the gateway's writes towards it block. It grants huge
 * windows, so only the gateway's own output buffering bounds what is queued towards it. It calls
 * `Flood` and prints the bytes received every 50 ms.
 */
const STALLING_CLIENT = `
const http2 = require('node:http2');
const session = http2.connect(process.argv[1], { settings: { initialWindowSize: 2147483647 } });
session.on('error', () => {});
session.once('connect', () => session.setLocalWindowSize(1 << 30));
const stream = session.request({ ':method': 'POST', ':path': process.argv[2], 'content-type': 'application/grpc', te: 'trailers' });
stream.on('error', () => {});
let bytes = 0;
stream.on('data', (chunk) => { bytes += chunk.length; });
stream.on('close', () => process.stdout.write('closed ' + stream.rstCode + '\\n'));
stream.end(Buffer.alloc(5));
setInterval(() => process.stdout.write('bytes ' + bytes + '\\n'), 20);
`;

class StallingClient {
  private constructor(private readonly child: ManagedProcess) {}

  static start(address: string): StallingClient {
    return new StallingClient(
      ManagedProcess.start({
        name: 'stalling client',
        command: process.execPath,
        args: ['-e', STALLING_CLIENT, `http://${address}`, `${PREFIX}Flood`],
      }),
    );
  }

  /** Bytes received, as of the last progress line. */
  get bytes(): number {
    const lines = this.child.stdout().split('\n');
    const last = lines.findLast((line) => line.startsWith('bytes '));
    return last === undefined ? 0 : Number(last.slice(6));
  }

  get closed(): boolean {
    return /^closed/m.test(this.child.stdout());
  }

  freeze(): void {
    this.child.signal('SIGSTOP');
  }

  thaw(): void {
    this.child.signal('SIGCONT');
  }

  async stop(): Promise<void> {
    await this.child.kill();
  }
}

/**
 * Streams on a shared connection stay independent (flow control): a stream whose reader is slow or
 * stopped holds back only itself, buffering per stream is bounded by its window, and the connection
 * windows keep moving for the other streams, upstream and downstream.
 */
describe('a stalled stream holds back only itself', () => {
  let backend: FloodBackend | undefined;
  let gw: StartedGateway | undefined;
  const sessions: ClientHttp2Session[] = [];
  let stalling: StallingClient | undefined;

  afterEach(async () => {
    for (const session of sessions.splice(0)) session.destroy();
    await stalling?.stop();
    stalling = undefined;
    await gw?.close();
    gw = undefined;
    await backend?.stop();
    backend = undefined;
  });

  /** Backend, gateway (static cluster: one pooled upstream connection) and B's sessions, warmed up. */
  async function setUp(): Promise<{ backend: FloodBackend; gw: StartedGateway; b: ClientHttp2Session[] }> {
    backend = await FloodBackend.start();
    gw = await startTestGateway({
      routes: [route(PREFIX, 'flood')],
      clusters: [staticCluster('flood', `127.0.0.1:${backend.port}`)],
    });
    const b: ClientHttp2Session[] = [];
    for (let i = 0; i < B_CONNECTIONS; i++) b.push(await connected(gw.address));
    sessions.push(...b);
    await runB(b, 100); // warm-up: connections, JIT
    return { backend, gw, b };
  }

  /** B's calls all went over the one upstream connection A's stalled stream is on. */
  function expectOneUpstreamConnection(backendNow: FloodBackend, gwNow: StartedGateway): void {
    expect(backendNow.sessions).toBe(1);
    expect(gwNow.gateway.stats().upstreamConnectionsCreated).toBe(1);
  }

  it('a client that stops reading its response slows neither other clients nor its own other calls', async () => {
    const { backend, gw, b } = await setUp();
    const baselineMs = await runB(b);

    // Client A: an endless response that it stops reading (its stream paused, its connection open).
    const a = await connected(gw.address);
    sessions.push(a);
    const flood = request(a, 'Flood');
    const reader = new FloodReader();
    flood.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      if (reader.bytes >= 4 * MIB) flood.pause();
    });
    flood.end(EMPTY_MESSAGE);
    const rssBefore = rss();
    const written = await plateau(() => backend.floodWritten, 'the backend writing to the stalled stream');
    const received = reader.bytes;
    expect(flood.closed).toBe(false);
    // What is in flight towards A is bounded by the windows: A's stream window (64 KiB), the
    // gateway's upstream stream window (256 KiB), node's own buffers, not by the message rate.
    expect(written - received).toBeLessThan(2 * MIB);

    const sampler = rssSampler();
    const stalledMs = await runB(b);
    // A's own connection carries other calls while its first stream is stalled.
    for (let i = 0; i < 20; i++) expect((await echo(a, B_PAYLOAD)).grpcStatus).toBe('0');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rssMax = sampler.stop();

    expect(stalledMs, `baseline ${baselineMs.toFixed(0)} ms`).toBeLessThan(SLOWDOWN * baselineMs + SLACK_MS);
    expect(backend.floodWritten).toBe(written);
    expect(rssMax - rssBefore).toBeLessThan(RSS_GROWTH_BYTES);
    expectOneUpstreamConnection(backend, gw);

    // The stalled stream was held, not dropped: it resumes where it stopped, framing intact.
    flood.removeAllListeners('data');
    flood.on('data', (chunk: Buffer) => reader.push(chunk));
    flood.resume();
    await expect.poll(() => reader.bytes, { timeout: 5000 }).toBeGreaterThan(received + 8 * MIB);
    expect(reader.malformed).toBe(false);
    // And cancelling it reaches the backend.
    flood.close(constants.NGHTTP2_CANCEL);
    await expect.poll(() => backend.floodCancelled, { timeout: 3000 }).toBe(1);
  });

  it('a frozen client process (its socket unread) slows no other client', async () => {
    const { backend, gw, b } = await setUp();
    const baselineMs = await runB(b);

    const client = StallingClient.start(gw.address);
    stalling = client;
    await expect.poll(() => client.bytes, { timeout: 5000 }).toBeGreaterThan(MIB);
    client.freeze();
    const rssBefore = rss();
    const written = await plateau(() => backend.floodWritten, 'the backend writing to the frozen client');
    // Bounded by the gateway's output buffer towards A, its upstream stream window and the kernel's
    // loopback socket buffers (both ends autotune: up to tens of MiB), not by time.
    expect(written - client.bytes).toBeLessThan(64 * MIB);

    const sampler = rssSampler();
    const stalledMs = await runB(b);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rssMax = sampler.stop();

    expect(stalledMs, `baseline ${baselineMs.toFixed(0)} ms`).toBeLessThan(SLOWDOWN * baselineMs + SLACK_MS);
    expect(backend.floodWritten).toBe(written);
    expect(rssMax - rssBefore).toBeLessThan(RSS_GROWTH_BYTES);
    expectOneUpstreamConnection(backend, gw);

    // Thawed, A goes on receiving on the same stream: the gateway kept it.
    const frozenAt = client.bytes;
    client.thaw();
    await expect.poll(() => client.bytes, { timeout: 5000 }).toBeGreaterThan(frozenAt + 8 * MIB);
    expect(client.closed).toBe(false);
  });

  it('a backend that stops reading one upload slows neither other clients nor the uploader’s other calls', async () => {
    const { backend, gw, b } = await setUp();
    const baselineMs = await runB(b);

    // Client A uploads without end into Sink, which does not read; A writes only as flow control lets it.
    const a = await connected(gw.address);
    sessions.push(a);
    const upload = request(a, 'Sink');
    let accepted = 0;
    let uploading = true;
    const pump = (): void => {
      while (uploading && !upload.destroyed) {
        accepted += FLOOD_MESSAGE.length;
        if (!upload.write(FLOOD_MESSAGE)) return;
      }
    };
    upload.on('drain', pump);
    let grpcStatus: string | undefined;
    let grpcMessage: string | undefined;
    upload.on('trailers', (trailers) => {
      grpcStatus = trailers['grpc-status'] as string | undefined;
      grpcMessage = trailers['grpc-message'] as string | undefined;
    });
    upload.on('error', () => undefined);
    const done = once(upload, 'close');
    pump();
    const rssBefore = rss();
    const held = await plateau(() => accepted, 'the stalled upload');
    expect(backend.sinkStreams).toBe(1);
    // Bounded by windows: the gateway's downstream stream window (1 MiB), the backend's stream
    // window (64 KiB), node's buffers.
    expect(held).toBeLessThan(4 * MIB);

    const sampler = rssSampler();
    const stalledMs = await runB(b);
    // A's own connection carries other calls (the downstream connection window keeps moving).
    for (let i = 0; i < 20; i++) expect((await echo(a, B_PAYLOAD)).grpcStatus).toBe('0');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rssMax = sampler.stop();

    expect(stalledMs, `baseline ${baselineMs.toFixed(0)} ms`).toBeLessThan(SLOWDOWN * baselineMs + SLACK_MS);
    expect(accepted).toBe(held);
    expect(rssMax - rssBefore).toBeLessThan(RSS_GROWTH_BYTES);
    expectOneUpstreamConnection(backend, gw);

    // The backend starts reading: the upload goes on, then ends, and every byte arrived.
    backend.releaseSinks();
    await expect.poll(() => accepted, { timeout: 5000 }).toBeGreaterThan(held + 8 * MIB);
    uploading = false;
    upload.end();
    await done;
    expect(grpcStatus).toBe('0');
    expect(grpcMessage).toBe(`received ${accepted}`);
  });
});
