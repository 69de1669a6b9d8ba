/**
 * Raw HTTP/2 frames for the hostile tests and the fuzzer: a frame writer, a minimal HPACK encoder
 * (literals and static or dynamic indices, never Huffman) and a seeded generator of valid-looking,
 * mutated and garbage frame sequences, for either side of a connection. It depends on nothing of
 * the code under test except the wire constants, so a bug in the codec cannot hide in its tests.
 */
import { CLIENT_PREFACE, ErrorCode, Flag, FrameType, SettingId } from '../constants.js';
import type { Prng } from './prng.js';

export { CLIENT_PREFACE, ErrorCode, Flag, FrameType, SettingId };

// ============================================================================================
// Frames
// ============================================================================================

export interface RawFrameOptions {
  /** Written in the length field instead of the payload's real length (a lying header). */
  readonly length?: number;
  /** Sets the reserved bit in front of the stream id. */
  readonly reservedBit?: boolean;
}

/** One frame: the 9-octet header (length, type, flags, R + stream id), then the payload as given. */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
  options: RawFrameOptions = {},
): Buffer {
  const out = Buffer.allocUnsafe(9 + payload.length);
  out.writeUIntBE((options.length ?? payload.length) & 0xffffff, 0, 3);
  out[3] = type & 0xff;
  out[4] = flags & 0xff;
  out.writeUInt32BE(((streamId & 0x7fffffff) | (options.reservedBit ? 0x80000000 : 0)) >>> 0, 5);
  payload.copy(out, 9);
  return out;
}

function u32(value: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(value >>> 0, 0);
  return b;
}

export type SettingEntry = readonly [id: number, value: number];

export function settingsFrame(entries: readonly SettingEntry[] = []): Buffer {
  const payload = Buffer.allocUnsafe(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id & 0xffff, i * 6);
    payload.writeUInt32BE(value >>> 0, i * 6 + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

export function settingsAckFrame(): Buffer {
  return frame(FrameType.SETTINGS, Flag.ACK, 0);
}

export function pingFrame(data: Buffer | bigint = 0n, ack = false): Buffer {
  let payload: Buffer;
  if (typeof data === 'bigint') {
    payload = Buffer.allocUnsafe(8);
    payload.writeBigUInt64BE(BigInt.asUintN(64, data), 0);
  } else {
    payload = Buffer.alloc(8);
    data.copy(payload, 0, 0, 8);
  }
  return frame(FrameType.PING, ack ? Flag.ACK : 0, 0, payload);
}

export interface PriorityField {
  readonly dependency: number;
  readonly exclusive?: boolean;
  readonly weight?: number;
}

function priorityBytes(p: PriorityField): Buffer {
  const b = Buffer.allocUnsafe(5);
  b.writeUInt32BE(((p.dependency & 0x7fffffff) | (p.exclusive ? 0x80000000 : 0)) >>> 0, 0);
  b[4] = (p.weight ?? 15) & 0xff;
  return b;
}

export interface HeadersFrameOptions {
  readonly endStream?: boolean;
  /** Default true. */
  readonly endHeaders?: boolean;
  readonly padLength?: number;
  readonly priority?: PriorityField;
}

export function headersFrame(streamId: number, block: Buffer, options: HeadersFrameOptions = {}): Buffer {
  let flags = 0;
  if (options.endStream) flags |= Flag.END_STREAM;
  if (options.endHeaders ?? true) flags |= Flag.END_HEADERS;
  const parts: Buffer[] = [];
  if (options.padLength !== undefined) {
    flags |= Flag.PADDED;
    parts.push(Buffer.from([options.padLength & 0xff]));
  }
  if (options.priority !== undefined) {
    flags |= Flag.PRIORITY;
    parts.push(priorityBytes(options.priority));
  }
  parts.push(block);
  if (options.padLength !== undefined) parts.push(Buffer.alloc(options.padLength & 0xff));
  return frame(FrameType.HEADERS, flags, streamId, Buffer.concat(parts));
}

export function continuationFrame(streamId: number, fragment: Buffer, endHeaders: boolean): Buffer {
  return frame(FrameType.CONTINUATION, endHeaders ? Flag.END_HEADERS : 0, streamId, fragment);
}

export interface DataFrameOptions {
  readonly endStream?: boolean;
  readonly padLength?: number;
}

export function dataFrame(streamId: number, data: Buffer | string, options: DataFrameOptions = {}): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  let flags = options.endStream ? Flag.END_STREAM : 0;
  if (options.padLength === undefined) return frame(FrameType.DATA, flags, streamId, body);
  flags |= Flag.PADDED;
  const pad = options.padLength & 0xff;
  return frame(FrameType.DATA, flags, streamId, Buffer.concat([Buffer.from([pad]), body, Buffer.alloc(pad)]));
}

export function priorityFrame(streamId: number, priority: PriorityField): Buffer {
  return frame(FrameType.PRIORITY, 0, streamId, priorityBytes(priority));
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  return frame(FrameType.RST_STREAM, 0, streamId, u32(code));
}

export function goawayFrame(lastStreamId: number, code: number, debug = ''): Buffer {
  return frame(
    FrameType.GOAWAY,
    0,
    0,
    Buffer.concat([u32(lastStreamId & 0x7fffffff), u32(code), Buffer.from(debug, 'latin1')]),
  );
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, u32(increment & 0x7fffffff));
}

export function pushPromiseFrame(streamId: number, promisedId: number, block: Buffer): Buffer {
  return frame(
    FrameType.PUSH_PROMISE,
    Flag.END_HEADERS,
    streamId,
    Buffer.concat([u32(promisedId & 0x7fffffff), block]),
  );
}

// ============================================================================================
// Minimal HPACK (RFC 7541): no Huffman, no dynamic table of its own
// ============================================================================================

export type HeaderPairs = readonly (readonly [string, string])[];

/** RFC 7541 5.1 integer with an N-bit prefix; `high` holds the representation's leading bits. */
export function hpackInteger(value: number, prefixBits: number, high = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([high | value]);
  const out = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

/** RFC 7541 5.2 string literal, raw octets (H = 0). */
export function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInteger(bytes.length, 7), bytes]);
}

/** 6.2.2 literal without indexing, new name: leaves the peer's dynamic table alone. */
export function hpackLiteral(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]);
}

/** 6.2.1 literal with incremental indexing, new name: adds (name, value) to the peer's table. */
export function hpackLiteralIndexed(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40]), hpackString(name), hpackString(value)]);
}

/** 6.1 indexed field (1..61 static, 62.. dynamic). */
export function hpackIndexed(index: number): Buffer {
  return hpackInteger(index, 7, 0x80);
}

/** 6.3 dynamic table size update. */
export function hpackSizeUpdate(size: number): Buffer {
  return hpackInteger(size, 5, 0x20);
}

/** A header block of literals without indexing. */
export function hpackBlock(headers: HeaderPairs): Buffer {
  return Buffer.concat(headers.map(([name, value]) => hpackLiteral(name, value)));
}

export function requestHeaders(path: string, method = 'GET', extra: HeaderPairs = []): HeaderPairs {
  return [[':method', method], [':scheme', 'http'], [':path', path], [':authority', 'fuzz.test'], ...extra];
}

export function requestBlock(path: string, method = 'GET', extra: HeaderPairs = []): Buffer {
  return hpackBlock(requestHeaders(path, method, extra));
}

export function responseBlock(status = 200, extra: HeaderPairs = []): Buffer {
  return hpackBlock([[':status', String(status)], ...extra]);
}

// ============================================================================================
// Sequences
// ============================================================================================

/** Which side the generated bytes play: a client talking to a server, or a server to a client. */
export type PeerRole = 'client' | 'server';

/**
 * valid: frames a correct peer could send (some make stream errors, none a connection error);
 * mixed: also frames that break the protocol (stray CONTINUATION, PUSH_PROMISE, stream 0, huge
 * values...); mutated: either, then damaged at the byte level; flood: one attack repeated;
 * garbage: random bytes.
 */
export type SequenceKind = 'valid' | 'mixed' | 'mutated' | 'flood' | 'garbage';

/** One generated sequence: the chunks to write in order, and what each holds (for replays). */
export interface GeneratedSequence {
  readonly kind: SequenceKind;
  readonly chunks: Buffer[];
  readonly labels: string[];
  /** Short description: kind, flood or mutation names. */
  readonly summary: string;
  /**
   * Index of the first chunk after the opening (preface, SETTINGS): a hostile server writes the
   * chunks before it, waits for the client's requests, then writes the rest.
   */
  readonly pauseAt: number;
}

export interface GeneratorOptions {
  readonly role: PeerRole;
  /** Server role: the client's stream ids the responses go to (its requests). Default 1, 3, 5. */
  readonly clientStreams?: readonly number[];
}

const SETTING_IDS = [
  SettingId.HEADER_TABLE_SIZE,
  SettingId.ENABLE_PUSH,
  SettingId.MAX_CONCURRENT_STREAMS,
  SettingId.INITIAL_WINDOW_SIZE,
  SettingId.MAX_FRAME_SIZE,
  SettingId.MAX_HEADER_LIST_SIZE,
  SettingId.ENABLE_CONNECT_PROTOCOL,
] as const;

const ERROR_CODES = Object.values(ErrorCode);

const HUGE_VALUES = [
  0,
  1,
  0x7fff_ffff,
  0x8000_0000,
  0xffff_ffff,
  2 ** 24 - 1,
  2 ** 24,
  16_383,
  16_384,
  65_535,
  65_536,
];

const MUTATIONS = [
  'bitFlip',
  'truncate',
  'lengthLie',
  'wrongStream',
  'hugeValue',
  'reservedBit',
  'randomBytes',
  'duplicate',
  'swap',
  'drop',
  'flags',
  'randomType',
] as const;
export type Mutation = (typeof MUTATIONS)[number];

const FLOODS = [
  'ping',
  'settings',
  'rapidReset',
  'continuation',
  'unknown',
  'emptyData',
  'priority',
  'windowUpdate',
  'hpackIndexBomb',
  'headersTooLarge',
  'streamErrors',
] as const;
export type Flood = (typeof FLOODS)[number];

/**
 * A seeded generator of frame sequences for one side. Sequences are built as frame lists, mutated at
 * the byte level, and then cut into chunks at random points (so the peer's parser also sees frames
 * split across reads, and several frames in one read).
 */
export class FrameGenerator {
  private readonly role: PeerRole;
  private readonly clientStreams: readonly number[];
  /** Client role: the next stream id to open; the ones opened so far. */
  private nextStream = 1;
  private readonly opened: number[] = [];
  /** Streams this side has not ended yet (client role: requests; server role: the client's streams). */
  private readonly open = new Set<number>();
  /** Only frames a correct peer could send (kind `valid`). */
  private strict = false;
  /** Server role: streams answered (response headers sent), and streams ended. */
  private readonly answered: number[] = [];
  private readonly finished = new Set<number>();

  constructor(
    private readonly rng: Prng,
    options: GeneratorOptions,
  ) {
    this.role = options.role;
    this.clientStreams = options.clientStreams ?? [1, 3, 5];
  }

  /** A sequence of a kind drawn at random: mostly valid-looking or mutated, some floods and garbage. */
  sequence(): GeneratedSequence {
    const kind = this.rng.weighted<SequenceKind>({
      valid: 25,
      mixed: 25,
      mutated: 32,
      flood: 12,
      garbage: 6,
    });
    return this.sequenceOf(kind);
  }

  sequenceOf(kind: SequenceKind): GeneratedSequence {
    const frames: Buffer[] = [];
    const labels: string[] = [];
    const add = (label: string, bytes: Buffer): void => {
      frames.push(bytes);
      labels.push(label);
    };
    let summary: string = kind;
    let openingFrames = 0;
    this.strict = kind === 'valid' || (kind === 'mutated' && this.rng.chance(0.5));
    if (this.role === 'server') for (const id of this.clientStreams) this.open.add(id);
    if (kind === 'garbage') {
      summary = this.garbage(add);
    } else {
      this.opening(add, kind === 'mutated');
      openingFrames = frames.length;
      if (kind === 'flood') {
        const flood = this.rng.pick(FLOODS);
        summary = `flood:${flood}`;
        this.flood(flood, add);
      } else {
        const actions = this.rng.range(1, 24);
        for (let i = 0; i < actions; i++) this.action(add);
      }
      if (this.rng.chance(0.1))
        add(
          'GOAWAY',
          goawayFrame(this.lastStream(), this.strict ? ErrorCode.NO_ERROR : this.rng.pick(ERROR_CODES)),
        );
    }
    if (kind === 'mutated') {
      const count = this.rng.range(1, 3);
      const applied: Mutation[] = [];
      for (let i = 0; i < count; i++) {
        const mutation = this.rng.pick(MUTATIONS);
        applied.push(mutation);
        this.mutate(mutation, frames, labels);
      }
      summary = `mutated:${applied.join('+')}`;
    }
    let openingBytes = 0;
    for (let i = 0; i < Math.min(openingFrames, frames.length); i++)
      openingBytes += (frames[i] as Buffer).length;
    const { chunks, pauseAt } = this.chunk(frames, openingBytes);
    return { kind, chunks, labels, summary, pauseAt };
  }

  // ------------------------------------------------------------------------------------------

  private opening(add: (label: string, bytes: Buffer) => void, sloppy: boolean): void {
    const rng = this.rng;
    if (this.role === 'client') {
      if (!sloppy || rng.chance(0.95)) add('preface', CLIENT_PREFACE);
      else
        add('bad preface', Buffer.concat([CLIENT_PREFACE.subarray(0, rng.int(24)), rng.bytes(rng.int(24))]));
    }
    if (!sloppy || rng.chance(0.95)) add('SETTINGS', settingsFrame(this.settingsEntries(sloppy)));
    if (rng.chance(0.8)) add('SETTINGS ACK', settingsAckFrame());
  }

  private settingsEntries(sloppy: boolean): SettingEntry[] {
    const rng = this.rng;
    const entries: SettingEntry[] = [];
    const n = rng.int(5);
    for (let i = 0; i < n; i++) {
      const id = rng.chance(0.9) ? rng.pick(SETTING_IDS) : rng.int(0x10000);
      entries.push([id, sloppy && rng.chance(0.3) ? rng.pick(HUGE_VALUES) : this.settingValue(id)]);
    }
    return entries;
  }

  private settingValue(id: number): number {
    const rng = this.rng;
    switch (id) {
      case SettingId.HEADER_TABLE_SIZE:
        return rng.pick([0, 100, 4096, 65_536]);
      case SettingId.ENABLE_PUSH:
        return 0;
      case SettingId.MAX_CONCURRENT_STREAMS:
        // A server limiting a client to fewer streams than it opens makes them wait: its answers to
        // streams not opened yet would be on idle streams.
        return this.strict && this.role === 'server' ? rng.pick([100, 1000]) : rng.pick([0, 1, 2, 100, 1000]);
      case SettingId.INITIAL_WINDOW_SIZE:
        return rng.pick([0, 1, 100, 16_384, 65_535, 1 << 20, 0x7fff_ffff]);
      case SettingId.MAX_FRAME_SIZE:
        return rng.pick([16_384, 16_385, 65_536, 2 ** 24 - 1]);
      case SettingId.MAX_HEADER_LIST_SIZE:
        return rng.pick([0, 100, 16_384, 1 << 20]);
      default:
        return rng.next();
    }
  }

  /**
   * A stream id for a frame about a stream: mostly an open one of ours (or the client's), sometimes
   * (not in strict mode) anything. -1 when strict and none is open: the action is skipped.
   */
  private someStream(): number {
    const rng = this.rng;
    if (this.strict) return this.open.size > 0 ? rng.pick([...this.open]) : -1;
    const r = rng.float();
    if (r < 0.75) {
      if (this.role === 'client') return this.opened.length > 0 ? rng.pick(this.opened) : 1;
      return this.clientStream();
    }
    if (r < 0.85) return rng.range(1, 40);
    if (r < 0.9) return 0;
    return rng.next() & 0x7fffffff;
  }

  /** One of the client's streams (1 when it has none). */
  private clientStream(): number {
    return this.clientStreams.length > 0 ? this.rng.pick(this.clientStreams) : 1;
  }

  private lastStream(): number {
    return this.opened.length > 0 ? (this.opened[this.opened.length - 1] as number) : 0;
  }

  /** A header block: usually literal-only, sometimes with indices, size updates or random bytes. */
  private block(headers: HeaderPairs): Buffer {
    const rng = this.rng;
    const r = rng.float();
    if (r < 0.7) return hpackBlock(headers);
    if (r < 0.8) {
      // Static indices for the common fields (:method GET = 2, :scheme http = 6, :path / = 4).
      const parts = headers.map(([name, value]) => {
        if (name === ':method' && value === 'GET') return hpackIndexed(2);
        if (name === ':scheme' && value === 'http') return hpackIndexed(6);
        if (name === ':status' && value === '200') return hpackIndexed(8);
        return rng.chance(0.3) ? hpackLiteralIndexed(name, value) : hpackLiteral(name, value);
      });
      if (rng.chance(0.2)) parts.push(hpackIndexed(this.strict ? rng.range(16, 61) : rng.range(1, 70)));
      return Buffer.concat(parts);
    }
    if (this.strict) return Buffer.concat([hpackSizeUpdate(rng.pick([0, 100, 4096])), hpackBlock(headers)]);
    if (r < 0.9)
      return Buffer.concat([hpackSizeUpdate(rng.pick([0, 100, 4096, 4097, 1 << 20])), hpackBlock(headers)]);
    return rng.bytes(rng.size(300));
  }

  private extraHeaders(): HeaderPairs {
    const rng = this.rng;
    const out: [string, string][] = [];
    const n = rng.int(4);
    for (let i = 0; i < n; i++) {
      const r = this.strict ? rng.float() * 0.6 : rng.float();
      if (r < 0.6) out.push([`x-fuzz-${rng.int(100)}`, 'v'.repeat(rng.size(200))]);
      else if (r < 0.7) out.push(['content-length', String(rng.int(50))]);
      else if (r < 0.75) out.push(['te', rng.pick(['trailers', 'gzip'])]);
      else if (r < 0.8) out.push(['connection', 'keep-alive']);
      else if (r < 0.85) out.push(['X-Upper', 'bad']);
      else if (r < 0.9) out.push([':unknown', 'x']);
      else out.push(['x-bytes', rng.bytes(rng.int(20)).toString('latin1')]);
    }
    return out;
  }

  /** A header block as HEADERS, or HEADERS + CONTINUATION(s), possibly padded or with a priority. */
  private headerFrames(
    add: (label: string, bytes: Buffer) => void,
    streamId: number,
    block: Buffer,
    endStream: boolean,
  ): void {
    const rng = this.rng;
    const padLength = rng.chance(0.15) ? rng.int(40) : undefined;
    const priority = rng.chance(0.1)
      ? {
          dependency: rng.chance(0.1) && !this.strict ? streamId : rng.int(10),
          weight: rng.int(256),
          exclusive: rng.chance(0.5),
        }
      : undefined;
    if (block.length > 4 && rng.chance(0.2)) {
      const pieces = rng.range(2, 4);
      const cut: number[] = [];
      for (let i = 1; i < pieces; i++) cut.push(rng.int(block.length));
      cut.sort((a, b) => a - b);
      let from = 0;
      const fragments: Buffer[] = [];
      for (const at of cut) {
        fragments.push(block.subarray(from, at));
        from = at;
      }
      fragments.push(block.subarray(from));
      add(
        `HEADERS(${streamId}) partial`,
        headersFrame(streamId, fragments[0] as Buffer, { endStream, endHeaders: false, padLength, priority }),
      );
      fragments.slice(1).forEach((fragment, i) => {
        add(`CONTINUATION(${streamId})`, continuationFrame(streamId, fragment, i === fragments.length - 2));
      });
      return;
    }
    add(`HEADERS(${streamId})`, headersFrame(streamId, block, { endStream, padLength, priority }));
  }

  private action(add: (label: string, bytes: Buffer) => void): void {
    const rng = this.rng;
    const strict = this.strict;
    const action = rng.weighted({
      message: 30,
      data: 12,
      windowUpdate: 8,
      ping: 6,
      priority: 4,
      rst: 4,
      settings: 4,
      unknown: 6,
      continuation: strict ? 0 : 2,
      pushPromise: strict ? 0 : 2,
      randomBytes: strict ? 0 : 1,
      trailers: 4,
    });
    switch (action) {
      case 'message': {
        if (this.role === 'client') {
          const id = strict || rng.chance(0.95) ? this.nextStream : rng.range(0, 20);
          this.nextStream += 2;
          this.opened.push(id);
          const method = rng.pick(strict ? ['GET', 'POST'] : ['GET', 'POST', 'HEAD', 'PUT', 'CONNECT']);
          const paths = ['/hello', '/echo', '/slow', '/big', '/fat', `/fuzz/${rng.int(1000)}`];
          const path = rng.pick(strict ? paths : [...paths, '', '*']);
          const withBody = rng.chance(0.4);
          if (withBody) this.open.add(id);
          this.headerFrames(
            add,
            id,
            this.block(requestHeaders(path, method, this.extraHeaders())),
            !withBody,
          );
          if (withBody) this.body(add, id, !strict || rng.chance(0.6));
        } else {
          const id = this.someStream();
          if (id < 0) return;
          const status = rng.pick(
            strict ? [200, 200, 204, 404, 500] : [200, 200, 200, 204, 100, 103, 404, 500, 99, 1000],
          );
          const endStream = rng.chance(0.3);
          // A correct server answers each stream once.
          if (strict) this.open.delete(id);
          this.headerFrames(
            add,
            id,
            this.block([[':status', String(status)], ...this.extraHeaders()]),
            endStream,
          );
          this.answered.push(id);
          if (endStream) this.finished.add(id);
          else if (rng.chance(0.7)) this.body(add, id, rng.chance(0.7));
        }
        return;
      }
      case 'data': {
        // Strict, server role: only streams answered above carry DATA.
        const id = strict && this.role === 'server' ? this.answeredStream() : this.someStream();
        if (id < 0) return;
        this.body(add, id, rng.chance(0.5));
        return;
      }
      case 'trailers': {
        const id = strict && this.role === 'server' ? this.answeredStream() : this.someStream();
        if (id < 0) return;
        this.open.delete(id);
        this.finished.add(id);
        this.headerFrames(add, id, this.block([['x-trailer', 'done'], ...this.extraHeaders()]), true);
        return;
      }
      case 'windowUpdate': {
        const increment = strict || rng.chance(0.8) ? rng.range(1, 1 << 16) : rng.pick(HUGE_VALUES);
        const id = rng.chance(0.4) ? 0 : this.someStream();
        if (id < 0) return;
        add(`WINDOW_UPDATE(${id}, ${increment})`, windowUpdateFrame(id, increment));
        return;
      }
      case 'ping':
        add('PING', pingFrame(BigInt(rng.next()), rng.chance(0.2)));
        return;
      case 'priority': {
        const id = strict ? this.nextStream + 2 * rng.int(5) : this.someStream();
        add(`PRIORITY(${id})`, priorityFrame(id, { dependency: rng.int(20), weight: rng.int(256) }));
        return;
      }
      case 'rst': {
        const id = this.someStream();
        if (id < 0) return;
        this.open.delete(id);
        add(`RST_STREAM(${id})`, rstStreamFrame(id, rng.pick(ERROR_CODES)));
        return;
      }
      case 'settings':
        if (rng.chance(0.5)) add('SETTINGS', settingsFrame(this.settingsEntries(!strict)));
        else add('SETTINGS ACK', settingsAckFrame());
        return;
      case 'unknown': {
        const type = rng.range(0x0a, 0xff);
        add(
          `UNKNOWN(0x${type.toString(16)})`,
          frame(type, rng.int(256), Math.max(0, this.someStream()), rng.bytes(rng.size(100))),
        );
        return;
      }
      case 'continuation': {
        const id = this.someStream();
        add(`CONTINUATION(${id}) stray`, continuationFrame(id, hpackBlock([['x-a', 'b']]), rng.chance(0.5)));
        return;
      }
      case 'pushPromise': {
        const id = this.someStream();
        add(`PUSH_PROMISE(${id})`, pushPromiseFrame(id, 2 * rng.range(1, 10), requestBlock('/pushed')));
        return;
      }
      case 'randomBytes':
        add('random bytes', rng.bytes(rng.size(64)));
        return;
    }
  }

  /** Server role, strict: a client stream that got its response headers and is not ended. */
  private answeredStream(): number {
    const candidates = this.answered.filter((id) => !this.finished.has(id));
    return candidates.length > 0 ? this.rng.pick(candidates) : -1;
  }

  private body(add: (label: string, bytes: Buffer) => void, id: number, endStream: boolean): void {
    const rng = this.rng;
    if (endStream) {
      this.open.delete(id);
      this.finished.add(id);
    }
    const frames = rng.range(1, 3);
    for (let i = 0; i < frames; i++) {
      const last = i === frames - 1;
      const size = rng.chance(0.05) ? rng.range(10_000, 16_000) : rng.size(500);
      const padLength = rng.chance(0.15) ? rng.int(30) : undefined;
      add(
        `DATA(${id}, ${size})`,
        dataFrame(id, Buffer.alloc(size, 0x61), { endStream: last && endStream, padLength }),
      );
    }
  }

  private flood(flood: Flood, add: (label: string, bytes: Buffer) => void): void {
    const rng = this.rng;
    const count = rng.range(100, 3000);
    switch (flood) {
      case 'ping':
        for (let i = 0; i < count; i++) add('PING', pingFrame(BigInt(i)));
        return;
      case 'settings':
        for (let i = 0; i < count; i++) add('SETTINGS', settingsFrame([]));
        return;
      case 'rapidReset':
        if (this.role === 'server') {
          for (let i = 0; i < count; i++)
            add('RST_STREAM', rstStreamFrame(this.clientStream(), ErrorCode.CANCEL));
          return;
        }
        for (let i = 0; i < count; i++) {
          const id = this.nextStream;
          this.nextStream += 2;
          this.opened.push(id);
          add(`HEADERS(${id})`, headersFrame(id, requestBlock('/slow'), { endStream: true }));
          add(`RST_STREAM(${id})`, rstStreamFrame(id, ErrorCode.CANCEL));
        }
        return;
      case 'continuation': {
        const id = this.role === 'client' ? this.nextStream : this.clientStream();
        const block = this.role === 'client' ? requestBlock('/hello') : responseBlock(200);
        add(`HEADERS(${id}) partial`, headersFrame(id, block, { endHeaders: false }));
        const fragment = rng.chance(0.5) ? Buffer.alloc(0) : hpackBlock([['x-c', 'c'.repeat(rng.int(1000))]]);
        for (let i = 0; i < count; i++) add(`CONTINUATION(${id})`, continuationFrame(id, fragment, false));
        return;
      }
      case 'unknown':
        for (let i = 0; i < count * 4; i++)
          add('UNKNOWN', frame(rng.range(0x0a, 0xff), 0, rng.int(10), Buffer.alloc(0)));
        return;
      case 'emptyData': {
        const id = this.openOne(add);
        for (let i = 0; i < count * 4; i++) add(`DATA(${id}, 0)`, dataFrame(id, Buffer.alloc(0)));
        return;
      }
      case 'priority':
        for (let i = 0; i < count * 4; i++)
          add('PRIORITY', priorityFrame(2 * rng.int(1000) + 1, { dependency: 0 }));
        return;
      case 'windowUpdate':
        for (let i = 0; i < count * 4; i++) add('WINDOW_UPDATE(0, 1)', windowUpdateFrame(0, 1));
        return;
      case 'hpackIndexBomb': {
        // One large entry in the table, then a block referencing it thousands of times.
        const id = this.openOne(add, [['x-bomb', 'b'.repeat(4000)]]);
        const refs = Buffer.alloc(rng.range(2000, 16_000), 0x80 | 62);
        const next = this.role === 'client' ? this.nextStream : id;
        if (this.role === 'client') {
          this.nextStream += 2;
          this.opened.push(next);
        }
        const head = this.role === 'client' ? requestBlock('/hello') : responseBlock(200);
        add(`HEADERS(${next}) bomb`, headersFrame(next, Buffer.concat([head, refs]), { endStream: true }));
        return;
      }
      case 'headersTooLarge': {
        const id = this.role === 'client' ? this.nextStream : this.clientStream();
        const block = this.role === 'client' ? requestBlock('/hello') : responseBlock(200);
        add(`HEADERS(${id}) partial`, headersFrame(id, block, { endHeaders: false }));
        const piece = hpackBlock([['x-big', 'z'.repeat(16_000)]]);
        for (let i = 0; i < Math.min(count, 100); i++)
          add(`CONTINUATION(${id})`, continuationFrame(id, piece, false));
        return;
      }
      case 'streamErrors':
        // Streams opened, then made to be reset by the peer (WINDOW_UPDATE of 0: a stream error).
        for (let i = 0; i < count; i++) {
          const id = this.openOne(add, [], false);
          add(`WINDOW_UPDATE(${id}, 0)`, windowUpdateFrame(id, 0));
        }
        return;
    }
  }

  /** Client role: opens a stream (a request); server role: answers one of the client's. */
  private openOne(
    add: (label: string, bytes: Buffer) => void,
    extra: HeaderPairs = [],
    endStream = false,
  ): number {
    if (this.role === 'client') {
      const id = this.nextStream;
      this.nextStream += 2;
      this.opened.push(id);
      const block = Buffer.concat([
        requestBlock('/slow'),
        ...extra.map(([n, v]) => hpackLiteralIndexed(n, v)),
      ]);
      add(`HEADERS(${id})`, headersFrame(id, block, { endStream }));
      return id;
    }
    const id = this.clientStream();
    const block = Buffer.concat([responseBlock(200), ...extra.map(([n, v]) => hpackLiteralIndexed(n, v))]);
    add(`HEADERS(${id})`, headersFrame(id, block, { endStream }));
    return id;
  }

  private garbage(add: (label: string, bytes: Buffer) => void): string {
    const rng = this.rng;
    const r = rng.float();
    const bytes = rng.bytes(rng.range(1, 4096));
    if (this.role === 'client' && r < 0.5) {
      add('preface', CLIENT_PREFACE);
      add('random bytes', bytes);
      return 'garbage:after-preface';
    }
    if (r < 0.75) {
      this.opening(add, false);
      add('random bytes', bytes);
      return 'garbage:after-handshake';
    }
    add('random bytes', bytes);
    return 'garbage:only';
  }

  // ------------------------------------------------------------------------------------------

  private mutate(mutation: Mutation, frames: Buffer[], labels: string[]): void {
    const rng = this.rng;
    if (frames.length === 0) return;
    const i = rng.int(frames.length);
    const target = frames[i] as Buffer;
    const isFrame = labels[i] !== 'preface' && labels[i] !== 'random bytes' && target.length >= 9;
    const mark = (what: string): void => {
      labels[i] = `${labels[i]} [${what}]`;
    };
    switch (mutation) {
      case 'bitFlip': {
        const copy = Buffer.from(target);
        const flips = rng.range(1, 4);
        for (let k = 0; k < flips; k++) {
          const at = rng.int(copy.length);
          copy[at] = (copy[at] as number) ^ (1 << rng.int(8));
        }
        frames[i] = copy;
        mark(`${flips} bit flips`);
        return;
      }
      case 'truncate': {
        // Cut the whole sequence at a byte inside frame i: everything after it is gone.
        const keep = rng.int(target.length);
        frames[i] = target.subarray(0, keep);
        frames.length = i + 1;
        labels.length = i + 1;
        mark(`truncated to ${keep}`);
        return;
      }
      case 'lengthLie': {
        if (!isFrame) return;
        const copy = Buffer.from(target);
        const real = copy.length - 9;
        const lie = rng.chance(0.5)
          ? Math.max(0, real + rng.range(-8, 8))
          : rng.pick([0, 1, 7, 8, 16_384, 16_385, 2 ** 24 - 1]);
        copy.writeUIntBE(lie, 0, 3);
        frames[i] = copy;
        mark(`length ${real} → ${lie}`);
        return;
      }
      case 'wrongStream': {
        if (!isFrame) return;
        const copy = Buffer.from(target);
        const id = rng.pick([0, 2, 4, 1, 0x7fff_ffff, rng.next() & 0x7fffffff]);
        copy.writeUInt32BE(id >>> 0, 5);
        frames[i] = copy;
        mark(`stream ${id}`);
        return;
      }
      case 'hugeValue': {
        if (!isFrame || target.length < 13) return;
        const copy = Buffer.from(target);
        const at = 9 + rng.int(Math.floor((copy.length - 9) / 4)) * 4;
        if (at + 4 > copy.length) return;
        copy.writeUInt32BE(rng.pick(HUGE_VALUES) >>> 0, at);
        frames[i] = copy;
        mark('huge value');
        return;
      }
      case 'reservedBit': {
        if (!isFrame) return;
        const copy = Buffer.from(target);
        copy[5] = (copy[5] as number) | 0x80;
        frames[i] = copy;
        mark('reserved bit');
        return;
      }
      case 'randomBytes':
        frames.splice(i, 0, rng.bytes(rng.range(1, 64)));
        labels.splice(i, 0, 'random bytes');
        return;
      case 'duplicate': {
        const times = rng.range(1, 50);
        for (let k = 0; k < times; k++) {
          frames.splice(i, 0, target);
          labels.splice(i, 0, labels[i] as string);
        }
        return;
      }
      case 'swap': {
        const j = rng.int(frames.length);
        frames[i] = frames[j] as Buffer;
        frames[j] = target;
        const label = labels[i] as string;
        labels[i] = labels[j] as string;
        labels[j] = label;
        return;
      }
      case 'drop':
        frames.splice(i, 1);
        labels.splice(i, 1);
        return;
      case 'flags': {
        if (!isFrame) return;
        const copy = Buffer.from(target);
        copy[4] = rng.int(256);
        frames[i] = copy;
        mark(`flags 0x${(copy[4] as number).toString(16)}`);
        return;
      }
      case 'randomType': {
        if (!isFrame) return;
        const copy = Buffer.from(target);
        copy[3] = rng.int(16);
        frames[i] = copy;
        mark(`type ${copy[3]}`);
        return;
      }
    }
  }

  /**
   * Concatenates the frames and cuts the bytes at random points (often none, sometimes dozens),
   * and always at `forcedCut` (the end of the opening); `pauseAt` is the chunk starting there.
   */
  private chunk(frames: readonly Buffer[], forcedCut: number): { chunks: Buffer[]; pauseAt: number } {
    const rng = this.rng;
    const all = Buffer.concat(frames);
    if (all.length === 0) return { chunks: [], pauseAt: 0 };
    const r = rng.float();
    const pieces = r < 0.5 ? 1 : r < 0.9 ? rng.range(2, 8) : rng.range(8, 64);
    const cuts = new Set<number>();
    for (let i = 1; i < pieces; i++) cuts.add(rng.range(1, Math.max(1, all.length - 1)));
    if (forcedCut > 0 && forcedCut < all.length) cuts.add(forcedCut);
    const sorted = [...cuts].sort((a, b) => a - b);
    const chunks: Buffer[] = [];
    let pauseAt = forcedCut >= all.length ? Number.MAX_SAFE_INTEGER : 0;
    let from = 0;
    for (const at of sorted) {
      if (at <= from || at >= all.length) continue;
      chunks.push(all.subarray(from, at));
      from = at;
      if (at === forcedCut) pauseAt = chunks.length;
    }
    chunks.push(all.subarray(from));
    return { chunks, pauseAt: Math.min(pauseAt, chunks.length) };
  }
}

// ============================================================================================
// Reading frames back
// ============================================================================================

export interface ParsedFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** Splits a byte stream into frames (no validation beyond the header); keeps partial frames. */
export class FrameReader {
  private buffer = Buffer.alloc(0);
  /** Bytes of a preface to skip first (server side reading a client). */
  private skip: number;
  prefaceOk = true;

  constructor(expectPreface = false) {
    this.skip = expectPreface ? CLIENT_PREFACE.length : 0;
  }

  /** Bytes buffered that are not a whole frame yet. */
  get pending(): number {
    return this.buffer.length;
  }

  push(chunk: Buffer): ParsedFrame[] {
    let data = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.skip > 0) {
      const n = Math.min(this.skip, data.length);
      const offset = CLIENT_PREFACE.length - this.skip;
      if (data.compare(CLIENT_PREFACE, offset, offset + n, 0, n) !== 0) this.prefaceOk = false;
      this.skip -= n;
      data = data.subarray(n);
    }
    const out: ParsedFrame[] = [];
    let pos = 0;
    while (data.length - pos >= 9) {
      const length = data.readUIntBE(pos, 3);
      if (data.length - pos < 9 + length) break;
      out.push({
        type: data[pos + 3] as number,
        flags: data[pos + 4] as number,
        streamId: data.readUInt32BE(pos + 5) & 0x7fffffff,
        payload: Buffer.from(data.subarray(pos + 9, pos + 9 + length)),
      });
      pos += 9 + length;
    }
    this.buffer = pos === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(pos));
    return out;
  }
}

/** The error code of a RST_STREAM or GOAWAY frame. */
export function frameErrorCode(f: ParsedFrame): number | undefined {
  if (f.type === FrameType.RST_STREAM && f.payload.length >= 4) return f.payload.readUInt32BE(0);
  if (f.type === FrameType.GOAWAY && f.payload.length >= 8) return f.payload.readUInt32BE(4);
  return undefined;
}
