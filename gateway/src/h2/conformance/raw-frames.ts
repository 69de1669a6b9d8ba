/**
 * A tiny raw HTTP/2 client for conformance tests: it writes any bytes (valid or not) and reads the
 * server's frames back undecoded. It is independent of the code under test on purpose: it imports
 * only the wire constants, and its HPACK side is a minimal encoder (literal without indexing, literal
 * names, no Huffman) plus the exact byte sequences a case spells out.
 */
import { connect, type Socket } from 'node:net';
import { CLIENT_PREFACE, ErrorCode, errorCodeName, FrameType, SettingId } from '../constants.js';

export { CLIENT_PREFACE, ErrorCode, FrameType, SettingId };

/** Flags by frame type (the same bit means different things for different types). */
export const Flags = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

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
export const CLIENT_WINDOW = 65_535;
const MAX_WAIT_MULTIPLIER = 5;

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  /** The length field as received (equals payload.length). */
  readonly length: number;
  readonly payload: Buffer;
}

export type RawEvent =
  | { readonly kind: 'frame'; readonly frame: Frame }
  | { readonly kind: 'closed'; readonly reason: string }
  | { readonly kind: 'timeout' };
/** What a `waitFor` decision sees: a frame or the close (a timeout ends the wait before). */
export type SeenEvent = Exclude<RawEvent, { readonly kind: 'timeout' }>;

// ---------------------------------------------------------------------------------------------
// Frame building
// ---------------------------------------------------------------------------------------------

export interface FrameOptions {
  /** Write this in the length field instead of the payload's real length (a lying header). */
  readonly length?: number;
  /** Set the reserved bit in front of the stream identifier. */
  readonly reservedBit?: boolean;
}

/** One frame: 9-byte header (length, type, flags, R + stream id) and the payload, as given. */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
  options: FrameOptions = {},
): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(options.length ?? payload.length, 0, 3);
  header.writeUInt8(type & 0xff, 3);
  header.writeUInt8(flags & 0xff, 4);
  header.writeUInt32BE(((streamId & 0x7fffffff) | (options.reservedBit ? 0x80000000 : 0)) >>> 0, 5);
  return Buffer.concat([header, payload]);
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0, 0);
  return b;
}

export function settingsFrame(entries: ReadonlyArray<readonly [number, number]>, ack = false): Buffer {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value >>> 0, i * 6 + 2);
  });
  return frame(FrameType.SETTINGS, ack ? Flags.ACK : 0, 0, payload);
}

export function settingsAck(): Buffer {
  return frame(FrameType.SETTINGS, Flags.ACK, 0);
}

/** PING with an 8-octet payload (shorter data is zero-padded, as h2spec's [8]byte). */
export function pingFrame(data: Buffer | string, ack = false): Buffer {
  return frame(FrameType.PING, ack ? Flags.ACK : 0, 0, pingData(data));
}

export function pingData(data: Buffer | string): Buffer {
  const out = Buffer.alloc(8);
  (typeof data === 'string' ? Buffer.from(data, 'latin1') : data).copy(out, 0, 0, 8);
  return out;
}

export interface Priority {
  readonly dependency: number;
  readonly exclusive?: boolean;
  /** The wire byte: 0 means weight 1, 255 means weight 256. */
  readonly weight: number;
}

function priorityBytes(p: Priority): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(((p.dependency & 0x7fffffff) | (p.exclusive ? 0x80000000 : 0)) >>> 0, 0);
  b.writeUInt8(p.weight & 0xff, 4);
  return b;
}

export interface HeadersOptions {
  readonly endStream?: boolean;
  /** Default true. */
  readonly endHeaders?: boolean;
  /** Pad with this many zero octets (sets PADDED). */
  readonly padLength?: number;
  readonly priority?: Priority;
}

export function headersFrame(streamId: number, block: Buffer, options: HeadersOptions = {}): Buffer {
  let flags = 0;
  if (options.endStream) flags |= Flags.END_STREAM;
  if (options.endHeaders ?? true) flags |= Flags.END_HEADERS;
  const parts: Buffer[] = [];
  if (options.padLength !== undefined) {
    flags |= Flags.PADDED;
    parts.push(Buffer.from([options.padLength]));
  }
  if (options.priority) {
    flags |= Flags.PRIORITY;
    parts.push(priorityBytes(options.priority));
  }
  parts.push(block);
  if (options.padLength !== undefined) parts.push(Buffer.alloc(options.padLength));
  return frame(FrameType.HEADERS, flags, streamId, Buffer.concat(parts));
}

export function continuationFrame(streamId: number, block: Buffer, endHeaders: boolean): Buffer {
  return frame(FrameType.CONTINUATION, endHeaders ? Flags.END_HEADERS : 0, streamId, block);
}

/** DATA; with `padding` the frame is PADDED and carries those octets after the data. */
export function dataFrame(
  streamId: number,
  data: Buffer | string,
  endStream: boolean,
  padding?: Buffer | string,
): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  let flags = endStream ? Flags.END_STREAM : 0;
  if (padding === undefined) return frame(FrameType.DATA, flags, streamId, body);
  flags |= Flags.PADDED;
  const pad = typeof padding === 'string' ? Buffer.from(padding, 'latin1') : padding;
  return frame(FrameType.DATA, flags, streamId, Buffer.concat([Buffer.from([pad.length]), body, pad]));
}

export function priorityFrame(streamId: number, priority: Priority): Buffer {
  return frame(FrameType.PRIORITY, 0, streamId, priorityBytes(priority));
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  return frame(FrameType.RST_STREAM, 0, streamId, u32(code));
}

export function goawayFrame(lastStreamId: number, code: number, debug: Buffer | string = ''): Buffer {
  const extra = typeof debug === 'string' ? Buffer.from(debug, 'latin1') : debug;
  return frame(FrameType.GOAWAY, 0, 0, Buffer.concat([u32(lastStreamId & 0x7fffffff), u32(code), extra]));
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, u32(increment & 0x7fffffff));
}

export function pushPromiseFrame(
  streamId: number,
  promisedId: number,
  block: Buffer,
  endHeaders = true,
): Buffer {
  return frame(
    FrameType.PUSH_PROMISE,
    endHeaders ? Flags.END_HEADERS : 0,
    streamId,
    Buffer.concat([u32(promisedId & 0x7fffffff), block]),
  );
}

// ---------------------------------------------------------------------------------------------
// Minimal HPACK encoder (RFC 7541): literal header field without indexing, new name, no Huffman
// ---------------------------------------------------------------------------------------------

export type HeaderList = ReadonlyArray<readonly [string, string]>;

/** RFC 7541 5.1 integer with an N-bit prefix; `high` holds the representation's leading bits. */
export function hpackInteger(value: number, prefixBits: number, high = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([high | value]);
  const out = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/** RFC 7541 5.2 string literal, raw octets (H = 0). */
export function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInteger(bytes.length, 7, 0x00), bytes]);
}

/** RFC 7541 6.2.2 literal header field without indexing, new name: 0x00, name, value. */
export function hpackLiteral(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]);
}

/** A header block that leaves the server's dynamic table untouched. */
export function encodeHeaders(headers: HeaderList): Buffer {
  return Buffer.concat(headers.map(([name, value]) => hpackLiteral(name, value)));
}

/** RFC 7541 6.3 dynamic table size update. */
export function hpackTableSizeUpdate(size: number): Buffer {
  return hpackInteger(size, 5, 0x20);
}

// ---------------------------------------------------------------------------------------------
// Describing what came back
// ---------------------------------------------------------------------------------------------

const TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(FrameType).map(([name, value]) => [value, name]),
);

export function frameTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `UNKNOWN(0x${type.toString(16)})`;
}

export function codeName(code: number): string {
  return errorCodeName(code);
}

/** The error code of a RST_STREAM (payload 0-3) or GOAWAY (payload 4-7); undefined if too short. */
export function frameErrorCode(f: Frame): number | undefined {
  if (f.type === FrameType.RST_STREAM && f.payload.length >= 4) return f.payload.readUInt32BE(0);
  if (f.type === FrameType.GOAWAY && f.payload.length >= 8) return f.payload.readUInt32BE(4);
  return undefined;
}

export function describeFrame(f: Frame): string {
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
      return `${base}${f.flags & Flags.ACK ? ', ACK' : `, ${describeSettings(f.payload)}`})`;
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

export function describeEvent(ev: RawEvent | undefined): string {
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
  readonly received: Frame[] = [];

  private buffer: Buffer = Buffer.alloc(0);
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
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 9) {
      const length = this.buffer.readUIntBE(0, 3);
      if (this.buffer.length < 9 + length) break;
      const f: Frame = {
        length,
        type: this.buffer.readUInt8(3),
        flags: this.buffer.readUInt8(4),
        streamId: this.buffer.readUInt32BE(5) & 0x7fffffff,
        payload: Buffer.from(this.buffer.subarray(9, 9 + length)),
      };
      this.buffer = this.buffer.subarray(9 + length);
      this.received.push(f);
      if (f.type === FrameType.DATA) this.creditData(f);
      this.push({ kind: 'frame', frame: f });
    }
  }

  /** h2spec's receive-window bookkeeping: top a window back up once it reaches 0. */
  private creditData(f: Frame): void {
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
  expectFrame(predicate: (f: Frame) => boolean, expected: string, timeoutMs?: number): Promise<Frame> {
    return this.waitFor<Frame>(
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
    check: (f: Frame) => boolean,
    expected: string,
    timeoutMs?: number,
  ): Promise<Frame> {
    return this.waitFor<Frame>(
      (ev) => {
        if (ev.kind !== 'frame' || ev.frame.type !== type) return undefined;
        return check(ev.frame) ? { pass: ev.frame } : { fail: describeFrame(ev.frame) };
      },
      expected,
      timeoutMs,
    );
  }

  /** A PING with ACK and this payload; the first PING must be it. */
  expectPingAck(data: Buffer | string): Promise<Frame> {
    const want = pingData(data);
    return this.expectFirstOfType(
      FrameType.PING,
      (f) => (f.flags & Flags.ACK) !== 0 && f.payload.equals(want),
      `PING (flags:0x01, data:${want.toString('hex')})`,
    );
  }

  /** The first HEADERS frame arrives on `streamId` (a response, whatever its :status). */
  expectHeaders(streamId: number): Promise<Frame> {
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
      if ((f.type === FrameType.DATA || f.type === FrameType.HEADERS) && f.flags & Flags.END_STREAM) {
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
      if (f.flags & Flags.ACK) {
        gotAck = true;
      } else {
        gotSettings = true;
        for (let i = 0; i + 6 <= f.payload.length; i += 6) {
          this.serverSettings.set(f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2));
        }
        this.send(settingsAck());
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
