/**
 * The HTTP/2 fuzzer: seeded random and mutated frame sequences against both roles of the codec.
 *
 * Server side: many raw connections to an `H2Server` (ours, or `address`), each sending one
 * generated sequence and reading everything back, while a well-behaved node:http2 client calls the
 * server without pause. Client side: a hostile TCP server answers `connectH2` connections (which make
 * a few requests) with generated sequences. Every hostile connection must end in a GOAWAY, a close,
 * or stay alive and answer a PING; none may hang. No exception may escape (uncaughtException and
 * unhandledRejection are watched), no error may be the catch-all INTERNAL_ERROR, the good clients'
 * calls must all succeed.
 *
 * Sequence i of side s is generated from (seed, s, i) alone: a failure prints the seed, the side and
 * the index, and `--seed N --side s --index i` replays just that sequence.
 *
 *   npx tsx gateway/src/h2/fuzz/fuzz-runner.ts [--seed N] [--seconds S] [--connections C]
 *     [--side server|client|both] [--index I] [--quiet]
 */
import { randomInt } from 'node:crypto';
import { type Socket, connect as tcpConnect } from 'node:net';
import { pathToFileURL } from 'node:url';
import { connectH2 } from '../client.js';
import type { ConnectionEnd, ConnectionLimits, Http2Connection, LocalSettings } from '../connection.js';
import { errorCodeName } from '../constants.js';
import { H2Server } from '../server.js';
import type { HeaderFields, Http2Stream } from '../stream.js';
import { ErrorCode, FrameType, frameErrorCode } from '../test-support/raw-frames.js';
import { FrameGenerator, type GeneratedSequence } from './frame-generator.js';
import {
  ClientCall,
  type GoawayInfo,
  GoodClient,
  GoodH2Client,
  HELLO,
  HostileServer,
  RawPeer,
  RecordingLog,
  TestHandler,
} from './hostile-peers.js';
import { Prng } from './prng.js';

export type FuzzSide = 'server' | 'client';

export interface FuzzOptions {
  readonly seed: number;
  readonly durationMs: number;
  /** Hostile connections in flight at once, per side. */
  readonly connections: number;
  /** Which role of the codec to fuzz. */
  readonly target: FuzzSide | 'both';
  /** Fuzz this server instead of starting one (server side only; its invariants are then not checked). */
  readonly address?: { readonly host: string; readonly port: number };
  /** Replay only this sequence index (of each side fuzzed). */
  readonly index?: number;
  /** Progress and failure lines (default: none). */
  readonly print?: (line: string) => void;
  readonly progressMs?: number;
}

/**
 * hang: a connection neither closed nor answered; exception: one escaped (uncaughtException,
 * unhandledRejection, a throwing API call); internal: the catch-all INTERNAL_ERROR (a bug caught
 * inside the codec); service: a good client's call failed; leak: streams or connections left open;
 * contract: StreamHandler callbacks out of order; runner: the fuzzer itself could not do its job.
 */
export type FailureKind = 'hang' | 'exception' | 'internal' | 'service' | 'leak' | 'contract' | 'runner';

export interface FuzzFailure {
  readonly kind: FailureKind;
  readonly side: FuzzSide | 'process';
  readonly index: number;
  readonly summary: string;
  readonly reason: string;
  /** The first frames of the sequence, for a look before replaying. */
  readonly frames: readonly string[];
}

export interface SideFigures {
  connections: number;
  sequences: number;
  framesSent: number;
  bytesSent: number;
  bytesReceived: number;
  /** GOAWAY codes the codec sent (code name → count). */
  goaways: Record<string, number>;
  /** RST_STREAM codes the codec sent. */
  resets: Record<string, number>;
  /** Per-connection outcome categories. */
  outcomes: Record<string, number>;
  /** Sequence kinds run (valid, mutated, flood:x, garbage:x...). */
  kinds: Record<string, number>;
  /** Outcomes of the sequences of kind `valid` (a correct peer: no connection error expected). */
  validOutcomes: Record<string, number>;
}

/** A well-behaved client's calls: right answers, failures, the first errors. */
export interface GoodClientFigures {
  ok: number;
  failed: number;
  errors: string[];
}

export interface FuzzFigures {
  readonly seed: number;
  readonly durationMs: number;
  /** How long the run took (a replay of one index is short). */
  elapsedMs: number;
  readonly server: SideFigures;
  readonly client: SideFigures & {
    handshakesFailed: number;
    requests: number;
    requestsRefused: number;
    /** How the fuzzed client's calls closed (code name → count). */
    callCloses: Record<string, number>;
    /** Broken StreamHandler contract: callbacks out of order, after close, or missing close. */
    violations: Record<string, number>;
  };
  /** The node:http2 client calling the fuzzed server. */
  readonly goodClient: GoodClientFigures;
  /** Our connectH2 client calling a good server while the client side is fuzzed. */
  readonly goodH2Client: GoodClientFigures;
  exceptions: number;
  readonly failures: FuzzFailure[];
  /**
   * Sequences of kind `valid` (frames a correct peer could send) that still ended in a connection
   * error: not failures (the generator is not a full model of a correct peer), but worth a look.
   */
  readonly suspicious: { side: FuzzSide; index: number; outcome: string; debug: string }[];
}

/** Small limits, so every flood the generator makes trips its bound within a sequence. */
export const FUZZ_LIMITS: Partial<ConnectionLimits> = {
  resetBurst: 50,
  resetsPerSecond: 50,
  controlBurst: 100,
  controlPerSecond: 50,
  idleFrameBurst: 500,
  idleFramesPerSecond: 200,
  maxContinuationFrames: 16,
  maxHeaderBlockBytes: 64 * 1024,
  outputHighWaterBytes: 256 * 1024,
  maxOutputBytes: 8 * 1024 * 1024,
  maxHeldBytes: 4 * 1024 * 1024,
  settingsTimeoutMs: 5_000,
};
export const FUZZ_SETTINGS: Partial<LocalSettings> = {
  maxConcurrentStreams: 100,
  maxHeaderListSize: 16 * 1024,
};

const PROBE = 0x66757a7a70726f62n; // "fuzzprob"
const CONNECTION_DEADLINE_MS = 10_000;
/** Completes any frame the peer may be waiting for (≤ 16,384 octets), then a DATA frame on stream 0. */
const ZERO_FLUSH = Buffer.alloc(16_384 + 18);
const CLIENT_STREAMS = [1, 3, 5, 7, 9];

function emptySide(): SideFigures {
  return {
    connections: 0,
    sequences: 0,
    framesSent: 0,
    bytesSent: 0,
    bytesReceived: 0,
    goaways: {},
    resets: {},
    outcomes: {},
    kinds: {},
    validOutcomes: {},
  };
}

/** The sequence holds a GOAWAY (maybe one a mutation made): the other side may just close after it. */
function sentGoaway(sequence: GeneratedSequence): boolean {
  return sequence.labels.some((label) => label.startsWith('GOAWAY') || label.includes('[type 7]'));
}

/** valid, mixed, mutated, flood:<which>, garbage:<where>. */
function kindOf(sequence: GeneratedSequence): string {
  return sequence.kind === 'flood' || sequence.kind === 'garbage' ? sequence.summary : sequence.kind;
}

function bump(counts: Record<string, number>, key: string, n = 1): void {
  counts[key] = (counts[key] ?? 0) + n;
}

/** What the hostile end sent and received, and the GOAWAY and RST_STREAM codes the codec sent it. */
function countTraffic(figures: SideFigures, peer: RawPeer): void {
  figures.bytesSent += peer.bytesSent;
  figures.bytesReceived += peer.bytesReceived;
  for (const f of peer.frames) {
    if (f.type === FrameType.GOAWAY) bump(figures.goaways, errorCodeName(frameErrorCode(f) ?? -1));
    else if (f.type === FrameType.RST_STREAM) bump(figures.resets, errorCodeName(frameErrorCode(f) ?? -1));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** What became of one hostile connection, seen from the raw (hostile) end. */
async function settle(peer: RawPeer): Promise<string> {
  // Read through functions: the awaits below change what they return.
  const goaway = (): GoawayInfo | undefined => peer.goaway;
  const closed = (): boolean => peer.closed;
  await peer.until(() => closed() || goaway() !== undefined, 20);
  if (goaway() === undefined && !closed()) {
    if (await peer.ping(PROBE, 1000)) return peer.resets.size > 0 ? 'alive+rst' : 'alive';
  }
  if (goaway() === undefined && !closed()) {
    // Silent: it may wait for the rest of a frame the sequence cut short. Complete it.
    peer.send(ZERO_FLUSH);
    await peer.until(() => closed() || goaway() !== undefined, 1500);
    const late = goaway();
    if (late !== undefined) return `flushed:goaway:${errorCodeName(late.code)}`;
    return closed() ? 'flushed:closed' : 'hung';
  }
  const sent = goaway();
  if (sent !== undefined) {
    // After its GOAWAY the codec closes the socket (at the latest 1 s later).
    if (!(await peer.waitClosed(2500))) return 'goaway-but-open';
    return `goaway:${errorCodeName(sent.code)}`;
  }
  return 'closed';
}

const FAILING_OUTCOMES = new Set([
  'hung',
  'goaway-but-open',
  'goaway:INTERNAL_ERROR',
  'flushed:goaway:INTERNAL_ERROR',
]);

class Run {
  readonly figures: FuzzFigures;
  private readonly print: (line: string) => void;
  private readonly started = performance.now();
  private stopped = false;

  constructor(readonly options: FuzzOptions) {
    this.print = options.print ?? (() => {});
    this.figures = {
      seed: options.seed,
      durationMs: options.durationMs,
      elapsedMs: 0,
      server: emptySide(),
      client: {
        ...emptySide(),
        handshakesFailed: 0,
        requests: 0,
        requestsRefused: 0,
        callCloses: {},
        violations: {},
      },
      goodClient: { ok: 0, failed: 0, errors: [] },
      goodH2Client: { ok: 0, failed: 0, errors: [] },
      exceptions: 0,
      failures: [],
      suspicious: [],
    };
  }

  get timeUp(): boolean {
    return this.stopped || performance.now() - this.started >= this.options.durationMs;
  }

  fail(
    kind: FailureKind,
    side: FuzzSide | 'process',
    index: number,
    sequence: GeneratedSequence | undefined,
    reason: string,
  ): void {
    const failure: FuzzFailure = {
      kind,
      side,
      index,
      summary: sequence?.summary ?? '',
      reason,
      frames: sequence?.labels.slice(0, 40) ?? [],
    };
    this.figures.failures.push(failure);
    if (this.figures.failures.length > 10) {
      if (this.figures.failures.length === 11) this.print('(more failures: only counted from here)');
      return;
    }
    const replay =
      index < 0
        ? `--seed ${this.options.seed}`
        : `--seed ${this.options.seed} --side ${side} --index ${index}`;
    this.print(
      `FUZZ FAILURE [${kind}] seed=${this.options.seed} side=${side} index=${index} (${failure.summary}): ${reason}\n` +
        `  replay: npx tsx gateway/src/h2/fuzz/fuzz-runner.ts ${replay}\n` +
        `  frames: ${failure.frames.join(', ')}`,
    );
  }

  /** Records a well-behaved client's figures; any of its calls that failed is a `service` failure. */
  private goodClientDone(
    side: FuzzSide,
    who: string,
    into: GoodClientFigures,
    result: GoodClientFigures,
  ): void {
    Object.assign(into, result);
    if (result.failed > 0)
      this.fail('service', side, -1, undefined, `${who}: ${result.failed} calls failed: ${result.errors[0]}`);
  }

  /** The codec's catch-all errors in `log` (the first `max`), each an `internal` failure. */
  private internalErrors(
    log: RecordingLog,
    max: number,
    side: FuzzSide,
    index: number,
    sequence: GeneratedSequence | undefined,
  ): void {
    for (const line of log.internalErrors().slice(0, max))
      this.fail(
        'internal',
        side,
        index,
        sequence,
        `internal error: ${String(line.detail.err)} ${String(line.detail.stack)}`,
      );
  }

  /** A broken StreamHandler contract: one failure per distinct violation (the first sequence showing it). */
  private contract(side: FuzzSide, index: number, sequence: GeneratedSequence, violation: string): void {
    if (this.seenViolations.has(violation)) return;
    this.seenViolations.add(violation);
    this.fail('contract', side, index, sequence, violation);
  }
  private readonly seenViolations = new Set<string>();

  // ------------------------------------------------------------------------------------------
  // The whole run
  // ------------------------------------------------------------------------------------------

  async run(): Promise<FuzzFigures> {
    const onException = (err: unknown): void => {
      this.figures.exceptions++;
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      this.fail('exception', 'process', -1, undefined, `uncaught: ${text}`);
    };
    process.on('uncaughtException', onException);
    process.on('unhandledRejection', onException);
    const progress = setInterval(() => this.print(this.line('progress')), this.options.progressMs ?? 5000);
    progress.unref();
    try {
      const sides: Promise<void>[] = [];
      if (this.options.target !== 'client') sides.push(this.serverSide());
      if (this.options.target !== 'server') sides.push(this.clientSide());
      await Promise.all(sides);
    } finally {
      clearInterval(progress);
      // Let late callbacks (a socket closing after the end) show their exceptions before we stop watching.
      await sleep(50);
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onException);
    }
    this.figures.elapsedMs = performance.now() - this.started;
    this.print(this.line('done'));
    return this.figures;
  }

  /** Runs `one(index)` on `connections` workers until the time is up (or once, for a replay). */
  private async workers(one: (index: number) => Promise<void>): Promise<void> {
    if (this.options.index !== undefined) {
      await one(this.options.index);
      return;
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (!this.timeUp) await one(next++);
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.connections) }, () => worker()));
  }

  // ------------------------------------------------------------------------------------------
  // Server side
  // ------------------------------------------------------------------------------------------

  private async serverSide(): Promise<void> {
    const log = new RecordingLog();
    const handler = new TestHandler(256 * 1024);
    let server: H2Server | undefined;
    let host = '127.0.0.1';
    let port: number;
    /** Hostile connections in flight, by the hostile end's port, to name the sequence behind a finding. */
    const inFlight = new Map<number, { index: number; sequence: GeneratedSequence }>();
    const remotePorts = new Map<Http2Connection, number>();
    if (this.options.address !== undefined) {
      host = this.options.address.host;
      port = this.options.address.port;
    } else {
      const own = new H2Server(
        {
          onStream: (stream, fields) => handler.onStream(stream, fields),
          onClose: (connection, end) => {
            const job = inFlight.get(remotePorts.get(connection) ?? -1);
            remotePorts.delete(connection);
            const index = job?.index ?? -1;
            // Every stream is closed before the connection reports its close.
            let leaked = 0;
            for (const stream of handler.streams) if (stream.connection === connection) leaked++;
            if (leaked > 0)
              this.fail('leak', 'server', index, job?.sequence, `${leaked} streams still open after onClose`);
            if (end.code === ErrorCode.INTERNAL_ERROR && !end.remote)
              this.fail(
                'internal',
                'server',
                index,
                job?.sequence,
                `ended with INTERNAL_ERROR: ${end.message}`,
              );
          },
        },
        { limits: FUZZ_LIMITS, settings: FUZZ_SETTINGS, log },
      );
      // Each connection's remote port, read when it is accepted (a socket closed at once has none later).
      const live = own.connections;
      const add = live.add.bind(live);
      live.add = (connection: Http2Connection) => {
        remotePorts.set(connection, (connection.socket as Socket).remotePort ?? -1);
        return add(connection);
      };
      port = await own.listen(0);
      server = own;
    }
    const expected = this.options.address === undefined ? HELLO : undefined;
    const good = new GoodClient(port, { expected, pauseMs: 1, host, timeoutMs: 5000 }).start();
    try {
      await this.workers((index) => this.serverConnection(host, port, index, inFlight));
    } finally {
      this.goodClientDone('server', 'good client', this.figures.goodClient, await good.stop());
      if (server !== undefined) {
        // Every hostile connection (and the good client's) must be gone now.
        const deadline = performance.now() + 3000;
        while (server.connections.size > 0 && performance.now() < deadline) await sleep(10);
        if (server.connections.size > 0)
          this.fail(
            'leak',
            'server',
            -1,
            undefined,
            `${server.connections.size} connections still open at the end`,
          );
        this.internalErrors(log, 5, 'server', -1, undefined);
        await server.close(200);
      }
    }
  }

  private async serverConnection(
    host: string,
    port: number,
    index: number,
    inFlight: Map<number, { index: number; sequence: GeneratedSequence }>,
  ): Promise<void> {
    const figures = this.figures.server;
    const rng = Prng.derive(this.options.seed, 'server', index);
    const sequence = new FrameGenerator(rng.fork('frames'), { role: 'client' }).sequence();
    const timing = rng.fork('timing');
    figures.sequences++;
    bump(figures.kinds, kindOf(sequence));
    let peer: RawPeer;
    try {
      peer = await RawPeer.connect(port, host, 3000);
    } catch (err) {
      bump(figures.outcomes, 'connect-failed');
      this.fail(
        'runner',
        'server',
        index,
        sequence,
        `connect failed: ${err instanceof Error ? err.message : String(err)}`,
      );
      return;
    }
    inFlight.set(peer.localPort, { index, sequence });
    figures.connections++;
    let outcome = await withDeadline(
      (async () => {
        for (const chunk of sequence.chunks) {
          if (peer.closed) break;
          peer.send(chunk);
          if (timing.chance(0.2)) await sleep(timing.int(3));
        }
        figures.framesSent += sequence.labels.length;
        return settle(peer);
      })(),
      CONNECTION_DEADLINE_MS,
      () => 'runner-deadline',
    );
    peer.destroy();
    // The server's onClose may still name this sequence.
    await peer.waitClosed(100);
    await sleep(1);
    inFlight.delete(peer.localPort);
    if (outcome === 'closed' && sentGoaway(sequence)) outcome = 'closed-after-our-goaway';
    countTraffic(figures, peer);
    bump(figures.outcomes, outcome);
    if (sequence.kind === 'valid') bump(figures.validOutcomes, outcome);
    // A correct peer should get no connection error; any peer should get a GOAWAY before a close.
    const odd = (sequence.kind === 'valid' && outcome.includes('goaway:')) || outcome.endsWith('closed');
    if (odd && this.figures.suspicious.length < 50)
      this.figures.suspicious.push({
        side: 'server',
        index,
        outcome,
        debug: peer.goaway?.debug ?? peer.closeReason,
      });
    if (FAILING_OUTCOMES.has(outcome)) {
      const kind: FailureKind = outcome.includes('INTERNAL_ERROR') ? 'internal' : 'hang';
      this.fail(kind, 'server', index, sequence, `connection outcome ${outcome} (${peer.closeReason})`);
    } else if (outcome === 'runner-deadline') {
      this.fail('hang', 'server', index, sequence, `no outcome within ${CONNECTION_DEADLINE_MS} ms`);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Client side
  // ------------------------------------------------------------------------------------------

  private async clientSide(): Promise<void> {
    const goodServerHandler = new TestHandler(64 * 1024);
    const goodServer = new H2Server(
      { onStream: (stream, fields) => goodServerHandler.onStream(stream, fields) },
      { limits: FUZZ_LIMITS, settings: FUZZ_SETTINGS },
    );
    const goodPort = await goodServer.listen(0);
    const good = new GoodH2Client(goodPort, 1, FUZZ_LIMITS).start();
    /** The sequence index of each client connection, by the client's local port. */
    const jobs = new Map<number, ClientJob>();
    const hostile = new HostileServer(
      async (peer) => {
        const job = jobs.get(peer.remotePort);
        if (job === undefined) {
          peer.destroy();
          return;
        }
        job.outcome = await withDeadline(
          this.hostileScript(peer, job),
          CONNECTION_DEADLINE_MS,
          () => 'runner-deadline',
        );
        job.peer = peer;
        peer.destroy();
        job.done();
      },
      { settings: false, awaitPreface: true },
    );
    const port = await hostile.listen();
    try {
      await this.workers((index) => this.clientConnection(port, index, jobs));
    } finally {
      this.goodClientDone('client', 'good connectH2 client', this.figures.goodH2Client, await good.stop());
      for (const err of hostile.scriptErrors.slice(0, 3))
        this.fail('runner', 'client', -1, undefined, `hostile server: ${String(err)}`);
      await hostile.close();
      await goodServer.close(200);
    }
  }

  /** The hostile server's part: the opening, the client's requests, the rest; then the verdict. */
  private async hostileScript(peer: RawPeer, job: ClientJob): Promise<string> {
    const { sequence } = job;
    for (let i = 0; i < sequence.chunks.length; i++) {
      if (peer.closed) break;
      if (i === sequence.pauseAt && job.requests > 0) {
        await peer.until(
          () => peer.frames.filter((f) => f.type === FrameType.HEADERS).length >= job.requests,
          150,
        );
      }
      peer.send(sequence.chunks[i] as Buffer);
      if (job.timing.chance(0.2)) await sleep(job.timing.int(3));
    }
    this.figures.client.framesSent += sequence.labels.length;
    return settle(peer);
  }

  private async clientConnection(port: number, index: number, jobs: Map<number, ClientJob>): Promise<void> {
    const figures = this.figures.client;
    const rng = Prng.derive(this.options.seed, 'client', index);
    const plan = rng.fork('requests');
    const requests = plan.int(5);
    const sequence = new FrameGenerator(rng.fork('frames'), {
      role: 'server',
      clientStreams: CLIENT_STREAMS.slice(0, requests),
    }).sequence();
    figures.sequences++;
    bump(figures.kinds, kindOf(sequence));
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const job: ClientJob = {
      sequence,
      requests,
      timing: rng.fork('timing'),
      outcome: '',
      peer: undefined,
      done: resolveDone,
    };
    const socket = tcpConnect({ host: '127.0.0.1', port, noDelay: true });
    socket.on('error', () => {});
    const connected = await withDeadline(
      new Promise<boolean>((resolve) => {
        socket.once('connect', () => resolve(true));
        socket.once('close', () => resolve(false));
      }),
      3000,
      () => false,
    );
    if (!connected) {
      socket.destroy();
      bump(figures.outcomes, 'connect-failed');
      this.fail('runner', 'client', index, sequence, 'could not connect to the hostile server');
      return;
    }
    const localPort = socket.localPort ?? -1;
    jobs.set(localPort, job);
    figures.connections++;
    let closedEnd: ConnectionEnd | undefined;
    let closes = 0;
    const calls: ClientCall[] = [];
    let connection: Http2Connection | undefined;
    const log = new RecordingLog();
    try {
      connection = await connectH2(
        {
          host: '127.0.0.1',
          port,
          socket,
          timeoutMs: 1500,
          limits: FUZZ_LIMITS,
          settings: FUZZ_SETTINGS,
          log,
        },
        {
          onClose: (_c, end) => {
            closes++;
            closedEnd = end;
          },
        },
      );
    } catch {
      figures.handshakesFailed++;
    }
    if (connection !== undefined) {
      for (let r = 0; r < requests; r++) {
        const call = new ClientCall();
        const body = plan.chance(0.4) ? Buffer.alloc(plan.size(40_000), 0x70) : undefined;
        const fields: HeaderFields = [
          ':method',
          body === undefined ? 'GET' : 'POST',
          ':scheme',
          'http',
          ':path',
          `/fuzz/${index}/${r}`,
          ':authority',
          'fuzz.test',
        ];
        let stream: Http2Stream;
        try {
          stream = connection.request(fields, body === undefined, call);
        } catch {
          figures.requestsRefused++;
          continue;
        }
        figures.requests++;
        calls.push(call);
        if (body !== undefined) {
          try {
            stream.write(body);
            stream.end();
          } catch (err) {
            this.fail('exception', 'client', index, sequence, `stream.write/end threw: ${String(err)}`);
          }
        }
      }
    }
    // The hostile server finishes its sequence, judges the connection and drops the socket.
    await withDeadline(done, CONNECTION_DEADLINE_MS + 2000, () => undefined);
    jobs.delete(localPort);
    if (job.outcome === '') job.outcome = 'runner-deadline';
    // Our client must notice the close and close every call.
    const closed = await withDeadline(
      (async () => {
        while (closes === 0) await sleep(5);
        return true;
      })(),
      2000,
      () => false,
    );
    if (!closed) {
      this.fail('hang', 'client', index, sequence, 'the client never reported the connection closed');
      connection?.destroy();
      socket.destroy();
    }
    if (closes > 1) this.contract('client', index, sequence, 'connection onClose called more than once');
    if (closedEnd !== undefined && closedEnd.code === ErrorCode.INTERNAL_ERROR && !closedEnd.remote)
      this.fail(
        'internal',
        'client',
        index,
        sequence,
        `client ended with INTERNAL_ERROR: ${closedEnd.message}`,
      );
    this.internalErrors(log, 1, 'client', index, sequence);
    for (const call of calls) {
      if (!call.isClosed) {
        bump(figures.violations, 'call not closed after the connection closed');
        this.fail('leak', 'client', index, sequence, 'a call was never closed');
      }
      bump(figures.callCloses, call.closeCode < 0 ? 'open' : errorCodeName(call.closeCode));
      for (const v of call.violations) {
        bump(figures.violations, v);
        this.contract('client', index, sequence, v);
      }
    }
    const peer = job.peer;
    if (peer !== undefined) countTraffic(figures, peer);
    if (job.outcome === 'closed' && sentGoaway(sequence)) job.outcome = 'closed-after-our-goaway';
    bump(figures.outcomes, job.outcome);
    if (sequence.kind === 'valid') {
      bump(figures.validOutcomes, job.outcome);
      if (job.outcome.includes('goaway:') && this.figures.suspicious.length < 50)
        this.figures.suspicious.push({
          side: 'client',
          index,
          outcome: job.outcome,
          debug: peer?.goaway?.debug ?? '',
        });
    }
    if (FAILING_OUTCOMES.has(job.outcome)) {
      const kind: FailureKind = job.outcome.includes('INTERNAL_ERROR') ? 'internal' : 'hang';
      this.fail(kind, 'client', index, sequence, `connection outcome ${job.outcome}`);
    } else if (job.outcome === 'runner-deadline') {
      this.fail('hang', 'client', index, sequence, `no outcome within ${CONNECTION_DEADLINE_MS} ms`);
    }
  }

  // ------------------------------------------------------------------------------------------

  line(what: 'progress' | 'done'): string {
    const f = this.figures;
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1);
    const side = (s: SideFigures): string =>
      `${s.connections} conns, ${s.framesSent} frames, ${(s.bytesSent / 1e6).toFixed(1)} MB sent, ` +
      `outcomes ${JSON.stringify(s.outcomes)}, goaway ${JSON.stringify(s.goaways)}, rst ${JSON.stringify(s.resets)}`;
    return (
      `[fuzz ${what}] ${seconds}s seed=${f.seed}` +
      (this.options.target !== 'client' ? ` | server: ${side(f.server)}` : '') +
      (this.options.target !== 'server'
        ? ` | client: ${side(f.client)}, handshakes failed ${f.client.handshakesFailed}, ` +
          `calls ${f.client.requests} (refused ${f.client.requestsRefused}) closes ${JSON.stringify(f.client.callCloses)}, ` +
          `violations ${JSON.stringify(f.client.violations)}`
        : '') +
      ` | good client ok=${what === 'done' ? f.goodClient.ok : '…'} failed=${f.goodClient.failed}` +
      ` good connectH2 ok=${what === 'done' ? f.goodH2Client.ok : '…'} failed=${f.goodH2Client.failed}` +
      ` | exceptions=${f.exceptions} failures=${f.failures.length}`
    );
  }
}

interface ClientJob {
  readonly sequence: GeneratedSequence;
  readonly requests: number;
  readonly timing: Prng;
  outcome: string;
  peer: RawPeer | undefined;
  done: () => void;
}

/** Runs the fuzzer; never throws for what it finds: read `failures` and `exceptions`. */
export function runFuzz(options: FuzzOptions): Promise<FuzzFigures> {
  return new Run(options).run();
}

/** The one-line summary of a finished run. */
export function summarize(figures: FuzzFigures): string {
  const s = figures.server;
  const c = figures.client;
  return (
    `fuzz seed=${figures.seed} seconds=${(figures.elapsedMs / 1000).toFixed(1)} ` +
    `server: connections=${s.connections} frames=${s.framesSent} bytes=${s.bytesSent} outcomes=${JSON.stringify(s.outcomes)} ` +
    `goaway=${JSON.stringify(s.goaways)} rst=${JSON.stringify(s.resets)} ` +
    `client: connections=${c.connections} frames=${c.framesSent} bytes=${c.bytesSent} outcomes=${JSON.stringify(c.outcomes)} ` +
    `goaway=${JSON.stringify(c.goaways)} rst=${JSON.stringify(c.resets)} calls=${c.requests} closes=${JSON.stringify(c.callCloses)} ` +
    `violations=${JSON.stringify(c.violations)} ` +
    `good-client ok=${figures.goodClient.ok} failed=${figures.goodClient.failed} ` +
    `good-connectH2 ok=${figures.goodH2Client.ok} failed=${figures.goodH2Client.failed} ` +
    `exceptions=${figures.exceptions} failures=${figures.failures.length}`
  );
}

// ============================================================================================
// CLI
// ============================================================================================

function argument(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(args: readonly string[]): Promise<number> {
  const seedArg = argument(args, 'seed');
  const seed = seedArg === undefined ? randomInt(0, 2 ** 32 - 1) : Number(seedArg) >>> 0;
  const seconds = Number(argument(args, 'seconds') ?? '60');
  const connections = Number(argument(args, 'connections') ?? '8');
  const side = (argument(args, 'side') ?? 'both') as FuzzSide | 'both';
  const indexArg = argument(args, 'index');
  const addressArg = argument(args, 'target');
  const quiet = args.includes('--quiet');
  let address: { host: string; port: number } | undefined;
  if (addressArg !== undefined) {
    const [host, port] = addressArg.split(':');
    address = { host: host ?? '127.0.0.1', port: Number(port) };
  }
  console.log(
    `fuzz: seed=${seed} seconds=${seconds} connections=${connections} side=${side}` +
      (indexArg !== undefined ? ` index=${indexArg}` : '') +
      (address !== undefined ? ` target=${address.host}:${address.port}` : ''),
  );
  const figures = await runFuzz({
    seed,
    durationMs: seconds * 1000,
    connections,
    target: side,
    address,
    index: indexArg === undefined ? undefined : Number(indexArg),
    print: (line) => {
      if (!quiet || line.startsWith('FUZZ FAILURE')) console.log(line);
    },
    progressMs: 5000,
  });
  console.log(summarize(figures));
  if (figures.failures.length > 0 || figures.exceptions > 0) {
    console.log(`FAILED: seed=${seed}, ${figures.failures.length} failures (replay with --seed ${seed})`);
    return 1;
  }
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(2);
    },
  );
}
