/**
 * A tiny raw HTTP/2 client for conformance tests: it writes any bytes (valid or not) and reads the
 * server's frames back undecoded, with h2spec's handshake, WINDOW_UPDATE bookkeeping and
 * expectations. The frames and header blocks it writes, and its frame reader, are the shared test
 * tooling of `../test-support/raw-frames.ts` (a minimal HPACK encoder: literals, no Huffman); like
 * it, this file is independent of the code under test on purpose and imports only the wire
 * constants from the implementation.
 */
import { connect, type Socket } from 'node:net';
import { errorCodeName } from '../constants.js';
import {
  CLIENT_PREFACE,
  ErrorCode,
  Flag,
  FrameReader,
  FrameType,
  frameErrorCode,
  pingData,
  type RawFrame,
  SettingId,
  settingsAckFrame,
  settingsFrame,
  windowUpdateFrame,
} from '../test-support/raw-frames.js';

/** Where the suite connects, and how patient and strict it is there. */
export interface ConformanceTarget {
  readonly host: string;
  readonly port: number;
  /** How long one expectation waits for the server (h2spec: 2 s); reset by each frame received. */
  readonly timeoutMs?: number;
  /**
   * true (default): a GOAWAY or RST_STREAM carrying an error code other than the expected one fails
   * the case at once. false: h2spec's rule — such a frame is ignored and a later TCP close still passes.
   */
  readonly strictCodes?: boolean;
}

export const DEFAULT_TIMEOUT_MS = 2_000;
/** h2spec's client SETTINGS in its handshake: SETTINGS_INITIAL_WINDOW_SIZE = 65,535. */
const CLIENT_WINDOW = 65_535;
const MAX_WAIT_MULTIPLIER = 5;

export type RawEvent =
  | { readonly kind: 'frame'; readonly frame: RawFrame }
  | { readonly kind: 'closed'; readonly reason: string }
  | { readonly kind: 'timeout' };
/** What a `waitFor` decision sees: a frame or the close (a timeout ends the wait before). */
export type SeenEvent = Exclude<RawEvent, { readonly kind: 'timeout' }>;

// ---------------------------------------------------------------------------------------------
// Describing what came back
// ---------------------------------------------------------------------------------------------

const TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(FrameType).map(([name, value]) => [value, name]),
);

function frameTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `UNKNOWN(0x${type.toString(16)})`;
}

function codeName(code: number): string {
  return errorCodeName(code);
}

export function describeFrame(f: RawFrame): string {
  const base = `${frameTypeName(f.type)} (length:${f.length}, flags:0x${f.flags.toString(16).padStart(2, '0')}, stream_id:${f.streamId}`;
  switch (f.type) {
    case FrameType.GOAWAY: {
      const code = frameErrorCode(f);
      const last = f.payload.length >= 4 ? f.payload.readUInt32BE(0) & 0x7fffffff : -1;
      const debug = f.payload.subarray(8).toString('latin1');
      return `${base}, last_stream_id:${last}, error_code:${code === undefined ? '?' : codeName(code)}${debug ? `, debug:${JSON.stringify(debug)}` : ''})`;
    }
    case FrameType.RST_STREAM: {
      const code = frameErrorCode(f);
      return `${base}, error_code:${code === undefined ? '?' : codeName(code)})`;
    }
    case FrameType.WINDOW_UPDATE:
      return `${base}, increment:${f.payload.length >= 4 ? f.payload.readUInt32BE(0) & 0x7fffffff : '?'})`;
    case FrameType.PING:
      return `${base}, data:${f.payload.toString('hex')})`;
    case FrameType.SETTINGS:
      return `${base}${f.flags & Flag.ACK ? ', ACK' : `, ${describeSettings(f.payload)}`})`;
    default:
      return `${base})`;
  }
}

function describeSettings(payload: Buffer): string {
  const parts: string[] = [];
  for (let i = 0; i + 6 <= payload.length; i += 6) {
    parts.push(`${payload.readUInt16BE(i)}=${payload.readUInt32BE(i + 2)}`);
  }
  return `settings:[${parts.join(' ')}]`;
}

function describeEvent(ev: RawEvent | undefined): string {
  if (ev === undefined) return 'nothing';
  if (ev.kind === 'frame') return describeFrame(ev.frame);
  if (ev.kind === 'closed') return `connection closed (${ev.reason})`;
  return 'timeout';
}

export class ConformanceError extends Error {
  override readonly name = 'ConformanceError';
}

/** Thrown by a case that cannot be judged against this target (h2spec's "skipped"). */
export class SkipCase extends Error {
  override readonly name = 'SkipCase';
}

// ---------------------------------------------------------------------------------------------
// The connection
// ---------------------------------------------------------------------------------------------

/** One TCP connection to the server under test, with a frame reader and h2spec-style expectations. */
export class RawConnection {
  readonly timeoutMs: number;
  readonly strictCodes: boolean;
  /** SETTINGS the server sent in its preface (after handshake()). */
  readonly serverSettings = new Map<number, number>();
  /** Like h2spec, answer received DATA with WINDOW_UPDATE once a 65,535-octet window is used up. */
  autoWindowUpdate = true;
  /** Every frame received, in order (for diagnostics). */
  readonly received: RawFrame[] = [];

  private readonly reader = new FrameReader();
  private readonly queue: RawEvent[] = [];
  private waiter: (() => void) | undefined;
  private closedReason: string | undefined;
  private readonly windows = new Map<number, number>([[0, CLIENT_WINDOW]]);

  private constructor(
    private readonly socket: Socket,
    target: ConformanceTarget,
  ) {
    this.timeoutMs = target.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.strictCodes = target.strictCodes ?? true;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onClosed('FIN received'));
    socket.on('close', () => this.onClosed('socket closed'));
    socket.on('error', (err: NodeJS.ErrnoException) => this.onClosed(err.code ?? err.message));
  }

  /** Opens the TCP connection (no bytes sent yet). */
  static open(target: ConformanceTarget): Promise<RawConnection> {
    const timeoutMs = target.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: target.host, port: target.port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new ConformanceError(`could not connect to ${target.host}:${target.port} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', onError);
        resolve(new RawConnection(socket, target));
      });
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(new ConformanceError(`could not connect to ${target.host}:${target.port}: ${err.message}`));
      };
      socket.once('error', onError);
    });
  }

  /** The server closed (or reset) the connection; events received before may still be queued. */
  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Writes raw bytes; a write after the server closed is silently dropped (the server may close first). */
  send(...chunks: Buffer[]): void {
    if (this.socket.destroyed || this.closedReason !== undefined) return;
    this.socket.write(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
  }

  /** Tears the socket down (RST if bytes are unread); idempotent. */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    for (const f of this.reader.push(chunk)) {
      this.received.push(f);
      if (f.type === FrameType.DATA) this.creditData(f);
      this.push({ kind: 'frame', frame: f });
    }
  }

  /** h2spec's receive-window bookkeeping: top a window back up once it reaches 0. */
  private creditData(f: RawFrame): void {
    if (!this.autoWindowUpdate || f.length === 0) return;
    for (const id of [f.streamId, 0]) {
      const left = (this.windows.get(id) ?? CLIENT_WINDOW) - f.length;
      if (left <= 0) {
        const increment = CLIENT_WINDOW - left;
        this.send(windowUpdateFrame(id, increment));
        this.windows.set(id, left + increment);
      } else {
        this.windows.set(id, left);
      }
    }
  }

  private onClosed(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.push({ kind: 'closed', reason });
  }

  private push(ev: RawEvent): void {
    this.queue.push(ev);
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next event: a frame, the close (repeated forever once closed), or a timeout. */
  nextEvent(timeoutMs = this.timeoutMs): Promise<RawEvent> {
    const queued = this.queue.shift();
    if (queued !== undefined) {
      // Keep reporting the close to later readers.
      if (queued.kind === 'closed') this.queue.unshift(queued);
      return Promise.resolve(queued);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve({ kind: 'timeout' });
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve(this.nextEvent(timeoutMs));
      };
    });
  }

  /**
   * Reads events until `decide` returns a verdict ('pass' | an error message) or the server goes
   * quiet for timeoutMs (or the whole wait exceeds MAX_WAIT_MULTIPLIER × timeoutMs).
   * `decide` sees every event including the close; returning undefined keeps waiting.
   */
  async waitFor<T>(
    decide: (ev: SeenEvent) => { readonly pass: T } | { readonly fail: string } | undefined,
    expected: string,
    timeoutMs = this.timeoutMs,
  ): Promise<T> {
    const hardDeadline = Date.now() + timeoutMs * MAX_WAIT_MULTIPLIER;
    let last: RawEvent | undefined;
    for (;;) {
      const remaining = hardDeadline - Date.now();
      const ev = await this.nextEvent(Math.max(1, Math.min(timeoutMs, remaining)));
      if (ev.kind === 'timeout') {
        throw new ConformanceError(
          `expected ${expected}; got ${last ? `${describeEvent(last)}, then ` : ''}timeout`,
        );
      }
      const verdict = decide(ev);
      if (verdict !== undefined) {
        if ('pass' in verdict) return verdict.pass;
        throw new ConformanceError(`expected ${expected}; got ${verdict.fail}`);
      }
      if (ev.kind === 'closed') {
        throw new ConformanceError(
          `expected ${expected}; got ${last ? `${describeEvent(last)}, then ` : ''}${describeEvent(ev)}`,
        );
      }
      last = ev;
    }
  }

  /** The first frame matching `predicate` (other frames are skipped). */
  expectFrame(predicate: (f: RawFrame) => boolean, expected: string, timeoutMs?: number): Promise<RawFrame> {
    return this.waitFor<RawFrame>(
      (ev) => (ev.kind === 'frame' && predicate(ev.frame) ? { pass: ev.frame } : undefined),
      expected,
      timeoutMs,
    );
  }

  /**
   * h2spec's WaitEventByType + a check: the FIRST frame of `type` must satisfy `check`
   * (a later one does not rescue the case).
   */
  expectFirstOfType(
    type: number,
    check: (f: RawFrame) => boolean,
    expected: string,
    timeoutMs?: number,
  ): Promise<RawFrame> {
    return this.waitFor<RawFrame>(
      (ev) => {
        if (ev.kind !== 'frame' || ev.frame.type !== type) return undefined;
        return check(ev.frame) ? { pass: ev.frame } : { fail: describeFrame(ev.frame) };
      },
      expected,
      timeoutMs,
    );
  }

  /** A PING with ACK and this payload; the first PING must be it. */
  expectPingAck(data: Buffer | string): Promise<RawFrame> {
    const want = pingData(data);
    return this.expectFirstOfType(
      FrameType.PING,
      (f) => (f.flags & Flag.ACK) !== 0 && f.payload.equals(want),
      `PING (flags:0x01, data:${want.toString('hex')})`,
    );
  }

  /** The first HEADERS frame arrives on `streamId` (a response, whatever its :status). */
  expectHeaders(streamId: number): Promise<RawFrame> {
    return this.expectFirstOfType(
      FrameType.HEADERS,
      (f) => f.streamId === streamId,
      `HEADERS (stream_id:${streamId})`,
    );
  }

  /** The server closes the TCP connection (any frames before that are ignored). */
  expectClose(): Promise<void> {
    return this.waitFor(
      (ev) => (ev.kind === 'closed' ? { pass: undefined } : undefined),
      'the connection to be closed',
    );
  }

  /** A connection error: GOAWAY with one of `codes`, or the connection closed. */
  expectConnectionError(...codes: number[]): Promise<void> {
    const expected = `${codes.map((c) => `GOAWAY (${codeName(c)})`).join(' or ')} or connection close`;
    return this.waitFor((ev) => {
      if (ev.kind === 'closed') return { pass: undefined };
      if (ev.frame.type !== FrameType.GOAWAY) return undefined;
      const code = frameErrorCode(ev.frame);
      if (code !== undefined && codes.includes(code)) return { pass: undefined };
      return this.strictCodes ? { fail: describeFrame(ev.frame) } : undefined;
    }, expected);
  }

  /**
   * A stream error: RST_STREAM on `streamId` ('any' = any stream) with one of `codes`, a GOAWAY with
   * one of them (a connection error is allowed where a stream error is asked), or the connection closed.
   */
  expectStreamError(streamId: number | 'any', ...codes: number[]): Promise<void> {
    const on = streamId === 'any' ? '' : `stream_id:${streamId}, `;
    const names = codes.map(codeName).join('|');
    const expected = `RST_STREAM (${on}${names}) or GOAWAY (${names}) or connection close`;
    return this.waitFor((ev) => {
      if (ev.kind === 'closed') return { pass: undefined };
      const f = ev.frame;
      if (f.type === FrameType.GOAWAY) {
        const code = frameErrorCode(f);
        if (code !== undefined && codes.includes(code)) return { pass: undefined };
        return this.strictCodes ? { fail: describeFrame(f) } : undefined;
      }
      if (f.type === FrameType.RST_STREAM) {
        const code = frameErrorCode(f);
        const onStream = streamId === 'any' || f.streamId === streamId;
        if (code !== undefined && codes.includes(code) && (onStream || !this.strictCodes))
          return { pass: undefined };
        if (onStream && this.strictCodes) return { fail: describeFrame(f) };
      }
      return undefined;
    }, expected);
  }

  /** h2spec's VerifyStreamClose: DATA or HEADERS with END_STREAM on `streamId`, or RST_STREAM (NO_ERROR). */
  expectStreamClose(streamId: number): Promise<void> {
    return this.waitFor((ev) => {
      if (ev.kind !== 'frame' || ev.frame.streamId !== streamId) return undefined;
      const f = ev.frame;
      if ((f.type === FrameType.DATA || f.type === FrameType.HEADERS) && f.flags & Flag.END_STREAM) {
        return { pass: undefined };
      }
      if (f.type === FrameType.RST_STREAM) {
        return frameErrorCode(f) === ErrorCode.NO_ERROR ? { pass: undefined } : { fail: describeFrame(f) };
      }
      return undefined;
    }, `the server to end stream ${streamId} (END_STREAM)`);
  }

  /**
   * h2spec's handshake: preface, SETTINGS (INITIAL_WINDOW_SIZE = 65,535), then wait for the server's
   * SETTINGS (ACKed) and the ACK of ours. Frames in between are discarded.
   */
  async handshake(): Promise<void> {
    this.send(CLIENT_PREFACE, settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, CLIENT_WINDOW]]));
    let gotSettings = false;
    let gotAck = false;
    const deadline = Date.now() + this.timeoutMs;
    while (!(gotSettings && gotAck)) {
      const remaining = deadline - Date.now();
      const ev = remaining > 0 ? await this.nextEvent(remaining) : ({ kind: 'timeout' } as const);
      if (ev.kind !== 'frame') {
        throw new ConformanceError(
          `handshake: expected the server's SETTINGS and SETTINGS ACK; got ${describeEvent(ev)}`,
        );
      }
      const f = ev.frame;
      if (f.type !== FrameType.SETTINGS) continue;
      if (f.flags & Flag.ACK) {
        gotAck = true;
      } else {
        gotSettings = true;
        for (let i = 0; i + 6 <= f.payload.length; i += 6) {
          this.serverSettings.set(f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2));
        }
        this.send(settingsAckFrame());
      }
    }
  }

  /** The server's SETTINGS_MAX_FRAME_SIZE (16,384 if it sent none). */
  get serverMaxFrameSize(): number {
    return this.serverSettings.get(SettingId.MAX_FRAME_SIZE) ?? 16_384;
  }
}

/** Opens a connection, runs `body`, and always destroys the socket. */
export async function withConnection<T>(
  target: ConformanceTarget,
  body: (conn: RawConnection) => Promise<T>,
): Promise<T> {
  const conn = await RawConnection.open(target);
  try {
    return await body(conn);
  } finally {
    conn.destroy();
  }
}
