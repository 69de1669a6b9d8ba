/**
 * Hostile peers for the abuse tests and the fuzzer: a raw HTTP/2 endpoint over TCP (either side)
 * that writes any bytes and reads frames back undecoded, a hostile raw TCP server for attacking the
 * client role, a test H2Server with a recording logger, a well-behaved node:http2 client that keeps
 * calling, and the byte sequences of each attack.
 */
import { type ClientHttp2Session, connect as nodeConnect } from 'node:http2';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { connectH2 } from '../client.js';
import type {
  ConnectionEnd,
  ConnectionLimits,
  ConnectionLog,
  Http2Connection,
  LocalSettings,
} from '../connection.js';
import { H2Server } from '../server.js';
import type { HeaderFields, Http2Stream, StreamHandler } from '../stream.js';
import {
  CLIENT_PREFACE,
  continuationFrame,
  ErrorCode,
  Flag,
  FrameReader,
  FrameType,
  frame,
  headersFrame,
  hpackIndexed,
  hpackLiteralIndexed,
  pingFrame,
  type RawFrame,
  rstStreamFrame,
  type SettingEntry,
  settingsAckFrame,
  settingsFrame,
  windowUpdateFrame,
} from '../test-support/raw-frames.js';
import { requestBlock } from './frame-generator.js';

// ============================================================================================
// A raw endpoint
// ============================================================================================

export interface GoawayInfo {
  readonly lastStreamId: number;
  readonly code: number;
  readonly debug: string;
}

/** One TCP connection speaking raw frames: writes whatever it is given, records every frame read. */
export class RawPeer {
  readonly frames: RawFrame[] = [];
  goaway: GoawayInfo | undefined;
  /** RST_STREAM codes received, by stream id. */
  readonly resets = new Map<number, number>();
  closed = false;
  closeReason = '';
  bytesSent = 0;
  bytesReceived = 0;
  private readonly reader: FrameReader;
  private waiters: (() => void)[] = [];
  readonly whenClosed: Promise<void>;

  constructor(
    readonly socket: Socket,
    /** The other side is a client: its first 24 octets are the preface. */
    expectPreface = false,
  ) {
    this.reader = new FrameReader(expectPreface);
    this.localPort = socket.localPort ?? -1;
    this.remotePort = socket.remotePort ?? -1;
    let resolveClosed!: () => void;
    this.whenClosed = new Promise((resolve) => {
      resolveClosed = resolve;
    });
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      for (const f of this.reader.push(chunk)) this.onFrame(f);
      this.wake();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.closeReason === '') this.closeReason = err.code ?? err.message;
    });
    socket.on('close', () => {
      this.closed = true;
      if (this.closeReason === '') this.closeReason = 'closed';
      resolveClosed();
      this.wake();
    });
  }

  /** Connects to a server (as a client: send the preface yourself, or use `handshake`). */
  static connect(port: number, host = '127.0.0.1', timeoutMs = 2000): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host, port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** This end's port and the other end's (kept: a closed socket no longer has them). */
  readonly localPort: number;
  readonly remotePort: number;

  get prefaceOk(): boolean {
    return this.reader.prefaceOk;
  }

  private onFrame(f: RawFrame): void {
    this.frames.push(f);
    if (this.frames.length > 100_000) this.frames.splice(0, 50_000);
    if (f.type === FrameType.GOAWAY && f.payload.length >= 8) {
      this.goaway = {
        lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff,
        code: f.payload.readUInt32BE(4),
        debug: f.payload.toString('latin1', 8),
      };
    } else if (f.type === FrameType.RST_STREAM && f.payload.length >= 4) {
      this.resets.set(f.streamId, f.payload.readUInt32BE(0));
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Writes bytes; dropped silently once the socket is closed (the peer may close first). */
  send(...chunks: Buffer[]): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    for (const c of chunks) {
      this.bytesSent += c.length;
      this.socket.write(c);
    }
    return true;
  }

  /** Stops reading from the socket: the kernel buffers fill, then the TCP window closes. */
  stopReading(): void {
    this.socket.pause();
  }

  /** Waits until `check` holds (checked after each read and at the start), the socket closes, or the timeout. */
  async until(check: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (this.closed) return check();
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** The first frame (from index `from`) matching `match`, or undefined at the timeout or close. */
  async waitFrame(
    match: (f: RawFrame) => boolean,
    timeoutMs = 2000,
    from = 0,
  ): Promise<RawFrame | undefined> {
    let found: RawFrame | undefined;
    let seen = from;
    await this.until(() => {
      for (; seen < this.frames.length; seen++) {
        const f = this.frames[seen] as RawFrame;
        if (match(f)) {
          found = f;
          return true;
        }
      }
      return false;
    }, timeoutMs);
    return found;
  }

  async waitGoaway(timeoutMs = 2000): Promise<GoawayInfo | undefined> {
    await this.until(() => this.goaway !== undefined, timeoutMs);
    return this.goaway;
  }

  async waitClosed(timeoutMs = 2000): Promise<boolean> {
    return this.until(() => this.closed, timeoutMs);
  }

  /** Client side of the handshake: preface, SETTINGS, the server's SETTINGS, both ACKs. */
  async handshake(settings: readonly SettingEntry[] = [], timeoutMs = 2000): Promise<void> {
    this.send(CLIENT_PREFACE, settingsFrame(settings));
    const theirs = await this.waitFrame(
      (f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0,
      timeoutMs,
    );
    if (theirs === undefined)
      throw new Error(`no SETTINGS from the server (${this.closeReason || 'timeout'})`);
    this.send(settingsAckFrame());
    const ack = await this.waitFrame(
      (f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0,
      timeoutMs,
    );
    if (ack === undefined)
      throw new Error(`our SETTINGS not acknowledged (${this.closeReason || 'timeout'})`);
  }

  /** PING round trip: true if the ACK came back (the peer is alive and reading). */
  async ping(payload = 0x70726f6265n, timeoutMs = 2000): Promise<boolean> {
    const from = this.frames.length;
    if (!this.send(pingFrame(payload))) return false;
    const ack = await this.waitFrame(
      (f) =>
        f.type === FrameType.PING && (f.flags & Flag.ACK) !== 0 && f.payload.readBigUInt64BE(0) === payload,
      timeoutMs,
      from,
    );
    return ack !== undefined;
  }

  /** Frames of one stream received so far. */
  streamFrames(streamId: number): RawFrame[] {
    return this.frames.filter((f) => f.streamId === streamId);
  }

  /** DATA payload bytes received on a stream, and whether END_STREAM came. */
  streamData(streamId: number): { bytes: number; ended: boolean } {
    let bytes = 0;
    let ended = false;
    for (const f of this.frames) {
      if (f.streamId !== streamId) continue;
      if (f.type === FrameType.DATA) {
        let n = f.payload.length;
        if ((f.flags & Flag.PADDED) !== 0 && n > 0) n -= 1 + (f.payload[0] as number);
        bytes += n;
      }
      if ((f.type === FrameType.DATA || f.type === FrameType.HEADERS) && (f.flags & Flag.END_STREAM) !== 0)
        ended = true;
    }
    return { bytes, ended };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

// ============================================================================================
// A hostile server, for attacking the client role
// ============================================================================================

export interface HostileServerOptions {
  /** The server's SETTINGS (its preface); `false` sends none. Default: empty SETTINGS. */
  readonly settings?: readonly SettingEntry[] | false;
  /** Wait for the client's preface and first SETTINGS before running the script (default true). */
  readonly awaitPreface?: boolean;
}

/**
 * A raw TCP server that answers each connection with its own SETTINGS (or not) and then runs
 * `script` on it: the script sends whatever it likes.
 */
export class HostileServer {
  readonly peers: RawPeer[] = [];
  readonly scriptErrors: unknown[] = [];
  private readonly tcp: Server;

  constructor(
    private readonly script: (peer: RawPeer, index: number) => Promise<void> | void,
    private readonly options: HostileServerOptions = {},
  ) {
    this.tcp = createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(0, '127.0.0.1', () => {
        this.tcp.off('error', reject);
        const address = this.tcp.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  }

  private accept(socket: Socket): void {
    const peer = new RawPeer(socket, true);
    const index = this.peers.length;
    this.peers.push(peer);
    const settings = this.options.settings ?? [];
    const run = async (): Promise<void> => {
      if (this.options.awaitPreface ?? true) {
        await peer.waitFrame((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0, 2000);
      }
      if (settings !== false) peer.send(settingsFrame(settings));
      await this.script(peer, index);
    };
    run().catch((err: unknown) => {
      this.scriptErrors.push(err);
      peer.destroy();
    });
  }

  async close(): Promise<void> {
    for (const peer of this.peers) peer.destroy();
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
  }
}

// ============================================================================================
// Logging
// ============================================================================================

export interface LogLine {
  readonly level: 'warn' | 'debug';
  readonly detail: Record<string, unknown>;
  readonly message: string;
}

/** A ConnectionLog that keeps every line. */
export class RecordingLog implements ConnectionLog {
  readonly lines: LogLine[] = [];
  warn(detail: object, message: string): void {
    this.push('warn', detail, message);
  }
  debug(detail: object, message: string): void {
    this.push('debug', detail, message);
  }
  private push(level: 'warn' | 'debug', detail: object, message: string): void {
    this.lines.push({ level, detail: { ...detail } as Record<string, unknown>, message });
    if (this.lines.length > 20_000) this.lines.splice(0, 10_000);
  }
  /** Warn lines naming this abuse counter. */
  abuse(counter: string): LogLine[] {
    return this.lines.filter((l) => l.level === 'warn' && l.detail.abuse === counter);
  }
  /** Lines of a connection error with this code name (e.g. COMPRESSION_ERROR). */
  connectionErrors(codeName: string): LogLine[] {
    return this.lines.filter((l) => l.message === 'http2 connection error' && l.detail.code === codeName);
  }
  /** Catch-all errors: a bug of the codec or of a handler, turned into INTERNAL_ERROR. */
  internalErrors(): LogLine[] {
    return this.lines.filter((l) => l.message === 'http2 internal error');
  }
}

// ============================================================================================
// The server under attack
// ============================================================================================

function field(fields: HeaderFields, name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Per-stream state of the test handler. */
interface Call {
  path: string;
  timer: NodeJS.Timeout | undefined;
  /** /big: bytes still to write; bytes handed to write() so far. */
  left: number;
  handedOut: number;
  queued: number;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x62);
export const BIG_CHUNK_BYTES = CHUNK.length;
export const HELLO = 'hello';

/**
 * Answers requests the way a small service would:
 * - `/hello` (and anything unknown): 200, body "hello", at once;
 * - `/slow`: the same 20 ms later (work a reset should cancel);
 * - `/big?<n>`: n bytes (default 32 MiB) in 64 KiB chunks, writing only as the windows and the
 *   socket take them (onWritten), the way a relay does;
 * - `/fat`: a trailers-only answer with a 1 KiB header;
 * request bodies are consumed and credited.
 */
export class TestHandler implements StreamHandler {
  answered = 0;
  slowStarted = 0;
  slowAnswered = 0;
  readonly streams = new Set<Http2Stream>();
  /** Largest amount a /big stream had handed to write() and not yet seen leave (onWritten). */
  maxQueued = 0;

  /** `bigBytes`: the size of a /big answer without `?<n>`. */
  constructor(private readonly bigBytes = 32 * 1024 * 1024) {}

  onStream(stream: Http2Stream, fields: HeaderFields): void {
    const path = field(fields, ':path') ?? '/';
    const call: Call = { path, timer: undefined, left: 0, handedOut: 0, queued: 0 };
    stream.handler = this;
    stream.context = call;
    this.streams.add(stream);
    if (path.startsWith('/slow')) {
      this.slowStarted++;
      call.timer = setTimeout(() => {
        call.timer = undefined;
        this.slowAnswered++;
        this.hello(stream);
      }, 20);
      return;
    }
    if (path.startsWith('/big')) {
      const n = Number(path.split('?')[1] ?? '');
      call.left = Number.isFinite(n) && n > 0 ? Math.min(n, 1 << 30) : this.bigBytes;
      stream.respond([':status', '200', 'content-type', 'application/octet-stream']);
      this.pump(stream, call);
      return;
    }
    if (path.startsWith('/fat')) {
      stream.respond([':status', '200', 'x-fat', `${stream.id}:${'f'.repeat(1024)}`], true);
      this.answered++;
      return;
    }
    this.hello(stream);
  }

  private hello(stream: Http2Stream): void {
    if (stream.isClosed) return;
    stream.respond([':status', '200', 'content-type', 'text/plain']);
    stream.write(Buffer.from(HELLO));
    stream.end();
    this.answered++;
  }

  /** Writes /big chunks while they go out at once; the rest waits for onWritten. */
  private pump(stream: Http2Stream, call: Call): void {
    while (call.left > 0 && call.queued === 0 && !stream.isClosed) {
      const n = Math.min(call.left, CHUNK.length);
      const sent = stream.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
      call.left -= n;
      call.handedOut += n;
      call.queued += n - sent;
      this.maxQueued = Math.max(this.maxQueued, call.queued);
    }
    if (call.left === 0 && call.queued === 0 && !stream.isClosed) {
      stream.end();
      this.answered++;
    }
  }

  onHeaders(): void {}
  onData(stream: Http2Stream, data: Buffer): void {
    stream.credit(data.length);
  }
  onTrailers(): void {}
  onEnd(): void {}
  onWritten(stream: Http2Stream, bytes: number): void {
    const call = stream.context as Call;
    call.queued -= bytes;
    if (call.left > 0 || call.queued === 0) this.pump(stream, call);
  }
  onClose(stream: Http2Stream): void {
    const call = stream.context as Call;
    if (call.timer !== undefined) clearTimeout(call.timer);
    call.timer = undefined;
    this.streams.delete(stream);
  }
}

export interface TestServer {
  readonly server: H2Server;
  readonly port: number;
  readonly log: RecordingLog;
  readonly handler: TestHandler;
  /** Connections that closed, with why. */
  readonly ended: Map<Http2Connection, ConnectionEnd>;
  /** The server side of a raw peer's connection (matched by port), live or closed. */
  connectionOf(peer: RawPeer): Http2Connection | undefined;
  /** Waits until that connection has closed; its end. */
  endOf(peer: RawPeer, timeoutMs?: number): Promise<ConnectionEnd | undefined>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  readonly limits?: Partial<ConnectionLimits>;
  readonly settings?: Partial<LocalSettings>;
}

function remotePort(connection: Http2Connection): number {
  return (connection.socket as Socket).remotePort ?? -2;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const log = new RecordingLog();
  const handler = new TestHandler();
  const ended = new Map<Http2Connection, ConnectionEnd>();
  const ports = new Map<Http2Connection, number>();
  const server = new H2Server(
    {
      onStream: (stream, fields) => handler.onStream(stream, fields),
      onClose: (connection, end) => {
        ended.set(connection, end);
      },
    },
    { limits: options.limits, settings: options.settings, log },
  );
  // Each connection's remote port, read when it is accepted (a socket closed at once has none later).
  const live = server.connections;
  const add = live.add.bind(live);
  live.add = (connection: Http2Connection) => {
    ports.set(connection, remotePort(connection));
    return add(connection);
  };
  const port = await server.listen(0);
  const connectionOf = (peer: RawPeer): Http2Connection | undefined => {
    for (const [c, p] of ports) if (p === peer.localPort) return c;
    return undefined;
  };
  return {
    server,
    port,
    log,
    handler,
    ended,
    connectionOf,
    async endOf(peer, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const c = connectionOf(peer);
        if (c !== undefined && ended.has(c)) return ended.get(c);
        if (Date.now() > deadline) return undefined;
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    close: () => server.close(200),
  };
}

// ============================================================================================
// The well-behaved client
// ============================================================================================

/**
 * A node:http2 client calling `/hello` without pause (`parallel` calls at a time) on its own
 * connection, counting calls that came back right (200, body "hello") and those that did not.
 */
export class GoodClient {
  ok = 0;
  failed = 0;
  readonly errors: string[] = [];
  private session: ClientHttp2Session | undefined;
  private stopped = false;
  private readonly loops: Promise<void>[] = [];

  private readonly parallel: number;
  private readonly path: string;
  /** The body a right answer has; undefined: any body of a 200. */
  private readonly expected: string | undefined;
  private readonly pauseMs: number;
  private readonly host: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly port: number,
    options: {
      readonly parallel?: number;
      readonly path?: string;
      readonly expected?: string | undefined;
      readonly pauseMs?: number;
      readonly host?: string;
      readonly timeoutMs?: number;
    } = {},
  ) {
    this.parallel = options.parallel ?? 2;
    this.path = options.path ?? '/hello';
    this.expected = 'expected' in options ? options.expected : HELLO;
    this.pauseMs = options.pauseMs ?? 0;
    this.host = options.host ?? '127.0.0.1';
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  start(): this {
    for (let i = 0; i < this.parallel; i++) this.loops.push(this.loop());
    return this;
  }

  private getSession(): ClientHttp2Session {
    if (this.session === undefined || this.session.closed || this.session.destroyed) {
      const session = nodeConnect(`http://${this.host}:${this.port}`);
      session.on('error', (err) => this.errors.push(`session: ${err.message}`));
      this.session = session;
    }
    return this.session;
  }

  /** One call; resolves with an error description or undefined. */
  call(timeoutMs = 2000): Promise<string | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (err: string | undefined): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(err);
      };
      const timer = setTimeout(() => {
        finish(`timed out after ${timeoutMs} ms`);
        req.close();
      }, timeoutMs);
      const req = this.getSession().request({ ':method': 'GET', ':path': this.path });
      let status = 0;
      const chunks: Buffer[] = [];
      req.on('response', (headers) => {
        status = Number(headers[':status']);
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const right = status === 200 && (this.expected === undefined || body === this.expected);
        finish(right ? undefined : `status ${status}, body ${JSON.stringify(body.slice(0, 40))}`);
      });
      req.on('error', (err: Error) => finish(err.message));
      req.on('close', () => finish(done ? undefined : `closed (${req.rstCode})`));
      req.end();
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const err = await this.call(this.timeoutMs);
      if (err === undefined) this.ok++;
      else {
        this.failed++;
        if (this.errors.length < 20) this.errors.push(err);
      }
      // Yield to the event loop so the attack traffic interleaves with the calls.
      if (this.pauseMs > 0) await new Promise((r) => setTimeout(r, this.pauseMs));
      else await new Promise((r) => setImmediate(r));
    }
  }

  async stop(): Promise<{ ok: number; failed: number; errors: string[] }> {
    this.stopped = true;
    await Promise.all(this.loops);
    this.session?.destroy();
    return { ok: this.ok, failed: this.failed, errors: this.errors };
  }
}

// ============================================================================================
// The attacks, as bytes
// ============================================================================================

export const Attacks = {
  /** CVE-2023-44487: each stream opened and at once reset, `count` times, from `firstId` on. */
  rapidReset(count: number, firstId = 1, path = '/slow'): Buffer {
    const parts: Buffer[] = [];
    const block = requestBlock(path);
    for (let i = 0; i < count; i++) {
      const id = firstId + 2 * i;
      parts.push(headersFrame(id, block, { endStream: true }), rstStreamFrame(id, ErrorCode.CANCEL));
    }
    return Buffer.concat(parts);
  },

  /** Streams opened and then made to be reset by the other side (a WINDOW_UPDATE of 0 on each). */
  madeYouReset(count: number, firstId = 1, path = '/slow'): Buffer {
    const parts: Buffer[] = [];
    const block = requestBlock(path);
    for (let i = 0; i < count; i++) {
      const id = firstId + 2 * i;
      parts.push(headersFrame(id, block, { endStream: false }), windowUpdateFrame(id, 0));
    }
    return Buffer.concat(parts);
  },

  /** A header block that never ends: HEADERS without END_HEADERS, then `count` CONTINUATIONs. */
  continuationFlood(
    streamId: number,
    block: Buffer,
    count: number,
    fragment: Buffer = Buffer.alloc(0),
  ): Buffer {
    const parts = [headersFrame(streamId, block, { endHeaders: false })];
    for (let i = 0; i < count; i++) parts.push(continuationFrame(streamId, fragment, false));
    return Buffer.concat(parts);
  },

  pingFlood(count: number): Buffer {
    const parts: Buffer[] = [];
    for (let i = 0; i < count; i++) parts.push(pingFrame(BigInt(i + 1)));
    return Buffer.concat(parts);
  },

  settingsFlood(count: number): Buffer {
    const parts: Buffer[] = [];
    for (let i = 0; i < count; i++) parts.push(settingsFrame([]));
    return Buffer.concat(parts);
  },

  /** Frames of types 0x0a-0xff (extension frames, to be ignored), `count` of them. */
  unknownFrames(count: number, streamId = 0): Buffer {
    const parts: Buffer[] = [];
    for (let i = 0; i < count; i++) parts.push(frame(0x0a + (i % 0xf6), 0, streamId, Buffer.from('x')));
    return Buffer.concat(parts);
  },

  /**
   * An HPACK bomb: an entry of ~4 KB added to the dynamic table, then a block that references it
   * `refs` times (1 octet each): `refs` × 4 KB of decoded header list from `refs` octets.
   */
  hpackIndexBomb(refs: number): { prime: Buffer; bomb: Buffer } {
    return {
      prime: hpackLiteralIndexed('x-bomb', 'b'.repeat(4000)),
      bomb: Buffer.alloc(refs, hpackIndexed(62)[0] as number),
    };
  },
};

// ============================================================================================
// The client role's side: a stream handler that checks the order of its callbacks
// ============================================================================================

/**
 * One request of our client (`connectH2`): records every callback, checks they come in the order the
 * StreamHandler contract gives (headers before data, trailers and end; nothing after close; close
 * exactly once), and credits what it receives.
 */
export class ClientCall implements StreamHandler {
  readonly events: string[] = [];
  readonly violations: string[] = [];
  headers: HeaderFields | undefined;
  readonly chunks: Buffer[] = [];
  closeCode = -1;
  closeRemote = false;
  refused = false;
  ended = false;
  /** Bytes reported by onWritten. */
  writtenBytes = 0;
  readonly done: Promise<void>;
  private resolve!: () => void;
  private closed = false;

  constructor(private readonly credit = true) {
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  private event(name: string): void {
    this.events.push(name);
    if (this.events.length > 1000) this.events.splice(0, 500);
    if (this.closed) this.violations.push(`${name} after close`);
  }

  onHeaders(_stream: Http2Stream, fields: HeaderFields, endStream: boolean): void {
    this.event('headers');
    if (this.headers !== undefined) this.violations.push('a second onHeaders');
    this.headers = fields;
    if (endStream) this.ended = true;
  }
  onData(stream: Http2Stream, data: Buffer): void {
    this.event('data');
    if (this.headers === undefined) this.violations.push('onData before onHeaders');
    if (data.length === 0) this.violations.push('empty onData');
    if (this.chunks.length < 1000) this.chunks.push(Buffer.from(data));
    if (this.credit) stream.credit(data.length);
  }
  onTrailers(): void {
    this.event('trailers');
    if (this.headers === undefined) this.violations.push('onTrailers before onHeaders');
  }
  onEnd(): void {
    this.event('end');
    if (this.headers === undefined) this.violations.push('onEnd before onHeaders');
    this.ended = true;
  }
  onWritten(_stream: Http2Stream, bytes: number): void {
    this.event('written');
    this.writtenBytes += bytes;
  }
  onClose(_stream: Http2Stream, code: number, remote: boolean, refused: boolean): void {
    this.event('close');
    if (this.closed) this.violations.push('onClose twice');
    this.closed = true;
    this.closeCode = code;
    this.closeRemote = remote;
    this.refused = refused;
    this.resolve();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get status(): string | undefined {
    return this.headers === undefined ? undefined : field(this.headers, ':status');
  }

  get body(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  /** Waits for onClose; false at the timeout. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([this.done.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }
}

export const GET_HELLO: HeaderFields = [
  ':method',
  'GET',
  ':scheme',
  'http',
  ':path',
  '/hello',
  ':authority',
  'test',
];

/**
 * Our own client (`connectH2`) calling `/hello` on a well-behaved server in a loop: while another
 * client connection of the same process is under attack, this one must keep working.
 */
export class GoodH2Client {
  ok = 0;
  failed = 0;
  readonly errors: string[] = [];
  private connection: Http2Connection | undefined;
  private stopped = false;
  private loopDone: Promise<void> | undefined;

  constructor(
    private readonly port: number,
    private readonly pauseMs = 0,
    private readonly limits: Partial<ConnectionLimits> = {},
  ) {}

  start(): this {
    this.loopDone = this.loop();
    return this;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.connection === undefined || !this.connection.isOpen) {
          this.connection?.destroy();
          this.connection = await connectH2({
            host: '127.0.0.1',
            port: this.port,
            timeoutMs: 2000,
            limits: this.limits,
          });
        }
        const call = new ClientCall();
        this.connection.request(GET_HELLO, true, call);
        const closed = await call.closedWithin(2000);
        if (closed && call.closeCode === ErrorCode.NO_ERROR && call.status === '200' && call.body === HELLO)
          this.ok++;
        else {
          this.failed++;
          if (this.errors.length < 20)
            this.errors.push(
              `closed ${closed}, code ${call.closeCode}, status ${call.status}, ${call.violations}`,
            );
        }
      } catch (err) {
        this.failed++;
        if (this.errors.length < 20) this.errors.push(err instanceof Error ? err.message : String(err));
      }
      if (this.pauseMs > 0) await new Promise((r) => setTimeout(r, this.pauseMs));
      else await new Promise((r) => setImmediate(r));
    }
  }

  async stop(): Promise<{ ok: number; failed: number; errors: string[] }> {
    this.stopped = true;
    await this.loopDone;
    this.connection?.destroy();
    return { ok: this.ok, failed: this.failed, errors: this.errors };
  }
}
