/**
 * The conformance cases: the same ground as h2spec's 146 default cases (its `generic`, `http2` and
 * `hpack` specs, strict-only cases excluded), one for one, with h2spec's ids (`http2/6.5.3/1`) and
 * titles. Each case opens its own connection(s), sends what h2spec sends and expects what h2spec
 * expects (RFC 9113 server MUSTs, RFC 7541 decoder errors). Where this suite is stricter or differs
 * in bytes, the case's comment says so.
 *
 * Most cases are one exchange: after the handshake, frames in one write, then one expectation
 * (`exchange(id, title, requirement, frames, expectation)`); the expectations are the small
 * functions below (`connectionError(...)`, `streamError(...)`, `responseOn(1)`...).
 */
import {
  CLIENT_PREFACE,
  continuationFrame,
  dataFrame,
  ErrorCode,
  Flag,
  FrameType,
  frame,
  frameErrorCode,
  goawayFrame,
  type HeaderList,
  type HeadersFrameOptions,
  headersFrame,
  hpackBlock,
  hpackIndexed,
  hpackInteger,
  hpackSizeUpdate,
  hpackString,
  pingFrame,
  priorityFrame,
  pushPromiseFrame,
  rstStreamFrame,
  type SettingEntry,
  SettingId,
  settingsFrame,
  windowUpdateFrame,
} from '../test-support/raw-frames.js';
import {
  ConformanceError,
  type ConformanceTarget,
  describeFrame,
  type RawConnection,
  SkipCase,
  withConnection,
} from './raw-frames.js';

export interface ConformanceCase {
  /** `<spec>/<section>/<n>` as h2spec numbers it, e.g. `http2/6.5.3/1`. */
  readonly id: string;
  readonly title: string;
  /** What the server must do (h2spec's "Requirement"). */
  readonly requirement: string;
  run(target: ConformanceTarget): Promise<void>;
}

const cases: ConformanceCase[] = [];

type Body = (conn: RawConnection, target: ConformanceTarget) => Promise<void>;

/** Opens a connection, completes h2spec's handshake on it and runs `body`. */
function handshaken<T>(
  target: ConformanceTarget,
  body: (conn: RawConnection, target: ConformanceTarget) => Promise<T>,
): Promise<T> {
  return withConnection(target, async (conn) => {
    await conn.handshake();
    return body(conn, target);
  });
}

/** A case on one connection that first completes h2spec's handshake. */
function add(id: string, title: string, requirement: string, body: Body): void {
  cases.push({ id, title, requirement, run: (target) => handshaken(target, body) });
}

/** A case that handles the connection preface itself. */
function addRaw(id: string, title: string, requirement: string, body: Body): void {
  cases.push({
    id,
    title,
    requirement,
    run: (target) => withConnection(target, (conn) => body(conn, target)),
  });
}

/** A case that needs GET / answered with at least `atLeast` DATA octets (else it is skipped). */
function addNeedingBody(id: string, title: string, requirement: string, atLeast: number, body: Body): void {
  cases.push({
    id,
    title,
    requirement,
    run: async (target) => {
      await requireBody(target, atLeast);
      await handshaken(target, body);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Exchanges: what a case sends, and what it then expects
// ---------------------------------------------------------------------------------------------

/** The frames a case writes (in one write), built for this target and connection. */
type Frames = (target: ConformanceTarget, conn: RawConnection) => Buffer[];
/** What a case then waits for. */
type Expectation = (conn: RawConnection) => Promise<unknown>;

/** After the handshake: `frames` in one write, then `expected`. */
function exchange(
  id: string,
  title: string,
  requirement: string,
  frames: Frames,
  expected: Expectation,
): void {
  add(id, title, requirement, (conn, t) => sendThenExpect(conn, t, frames, expected));
}

async function sendThenExpect(
  conn: RawConnection,
  t: ConformanceTarget,
  frames: Frames,
  expected: Expectation,
): Promise<void> {
  conn.send(...frames(t, conn));
  await expected(conn);
}

/** As `exchange`, once stream 1 has carried a whole GET and the server has ended it (closed). */
function exchangeOnClosedStream(
  id: string,
  title: string,
  requirement: string,
  frames: Frames,
  expected: Expectation,
): void {
  add(id, title, requirement, async (conn, t) => {
    conn.send(getRequest(t));
    await conn.expectStreamClose(1);
    await sendThenExpect(conn, t, frames, expected);
  });
}

/** A GOAWAY with one of `codes`, or the connection closed. */
function connectionError(...codes: number[]): Expectation {
  return (conn) => conn.expectConnectionError(...codes);
}

/** A RST_STREAM on `streamId` ('any': any stream) with one of `codes`, or a connection error. */
function streamError(streamId: number | 'any', ...codes: number[]): Expectation {
  return (conn) => conn.expectStreamError(streamId, ...codes);
}

/** The first HEADERS frame is on `streamId`: the server answered that request. */
function responseOn(streamId: number): Expectation {
  return (conn) => conn.expectHeaders(streamId);
}

/** The first HEADERS frame, on whichever stream. */
const anyResponse: Expectation = (conn) => conn.expectFirstOfType(FrameType.HEADERS, () => true, 'HEADERS');

/** The first DATA frame is on `streamId`. */
function dataOn(streamId: number): Expectation {
  return (conn) =>
    conn.expectFirstOfType(FrameType.DATA, (f) => f.streamId === streamId, `DATA (stream_id:${streamId})`);
}

/** The first DATA frame is on `streamId` and `length` octets long (what the window allowed). */
function dataLength(streamId: number, length: number): Expectation {
  return (conn) =>
    conn.expectFirstOfType(
      FrameType.DATA,
      (f) => f.streamId === streamId && f.length === length,
      `DATA (length:${length}, stream_id:${streamId})`,
    );
}

/** The first PING is the ACK of ours, with this payload. */
function pingAck(data: Buffer | string): Expectation {
  return (conn) => conn.expectPingAck(data);
}

/** The first PING is the ACK of ours (PING_ZERO), or the server closes the connection instead. */
const pingAckOrClose: Expectation = (conn) =>
  conn.waitFor((ev) => {
    if (ev.kind === 'closed') return { pass: undefined };
    const f = ev.frame;
    if (f.type !== FrameType.PING) return undefined;
    return f.flags & Flag.ACK && f.payload.equals(PING_ZERO)
      ? { pass: undefined }
      : { fail: describeFrame(f) };
  }, 'PING (flags:0x01) or connection close');

/** Any PING: the server is still reading this connection. */
const anyPing: Expectation = (conn) => conn.expectFirstOfType(FrameType.PING, () => true, 'a PING frame');

/** The first SETTINGS frame to arrive must be the ACK of ours (h2spec's VerifySettingsFrameWithAck). */
const settingsAck: Expectation = (conn) =>
  conn.expectFirstOfType(
    FrameType.SETTINGS,
    (f) => (f.flags & Flag.ACK) !== 0,
    'SETTINGS (length:0, flags:0x01, stream_id:0)',
  );

/** The server closes the TCP connection. */
const closed: Expectation = (conn) => conn.expectClose();

/** Sends SETTINGS and waits until it is acknowledged (the flow-control cases only need it applied). */
async function applySettings(conn: RawConnection, entries: readonly SettingEntry[]): Promise<void> {
  conn.send(settingsFrame(entries));
  await conn.expectFrame(
    (f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0,
    'SETTINGS (flags:0x01) acknowledging ours',
  );
}

// ---------------------------------------------------------------------------------------------
// Requests as h2spec sends them
// ---------------------------------------------------------------------------------------------

/** `:method`, `:scheme http`, `:path /`, `:authority host:port` (h2spec's CommonHeaders). */
function requestHeaders(target: ConformanceTarget, method = 'GET'): [string, string][] {
  return [
    [':method', method],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', target.port === 80 ? target.host : `${target.host}:${target.port}`],
  ];
}

function request(target: ConformanceTarget, method = 'GET', extra: HeaderList = []): Buffer {
  return hpackBlock([...requestHeaders(target, method), ...extra]);
}

/** A whole GET / on `streamId`: HEADERS with END_STREAM (and END_HEADERS unless `options` say). */
function getRequest(target: ConformanceTarget, streamId = 1, options: HeadersFrameOptions = {}): Buffer {
  return headersFrame(streamId, request(target), { endStream: true, ...options });
}

/** The HEADERS of a POST / on stream 1, without END_STREAM: its body follows. */
function postHeaders(target: ConformanceTarget, extra: HeaderList = []): Buffer {
  return headersFrame(1, request(target, 'POST', extra));
}

/** h2spec's DummyHeaders: `x-dummy<i>: xxxx…` (4,000 octets, its default --max-header-length). */
const DUMMY_VALUE_BYTES = 4_000;
function dummyHeaders(count: number): [string, string][] {
  return Array.from({ length: count }, (_, i) => [`x-dummy${i}`, 'x'.repeat(DUMMY_VALUE_BYTES)]);
}
function dummyBlock(count = 1): Buffer {
  return hpackBlock(dummyHeaders(count));
}

const PING_ZERO = Buffer.alloc(8);

/** h2spec's ServerDataLength: how many DATA octets the server answers a plain GET / with. */
async function serverDataLength(target: ConformanceTarget): Promise<number> {
  return handshaken(target, async (conn) => {
    conn.send(getRequest(target));
    let total = 0;
    await conn.waitFor((ev) => {
      if (ev.kind !== 'frame' || ev.frame.streamId !== 1) return undefined;
      const f = ev.frame;
      if (f.type === FrameType.DATA) total += f.length;
      if ((f.type === FrameType.DATA || f.type === FrameType.HEADERS) && f.flags & Flag.END_STREAM) {
        return { pass: undefined };
      }
      if (f.type === FrameType.RST_STREAM) return { fail: describeFrame(f) };
      return undefined;
    }, 'a complete response to GET / (to learn the body length)');
    return total;
  });
}

async function requireBody(target: ConformanceTarget, atLeast: number): Promise<void> {
  const length = await serverDataLength(target);
  if (length < atLeast) {
    throw new SkipCase(`GET / is answered with ${length} DATA octets; this case needs at least ${atLeast}`);
  }
}

const { PROTOCOL_ERROR, FRAME_SIZE_ERROR, STREAM_CLOSED, FLOW_CONTROL_ERROR, COMPRESSION_ERROR } = ErrorCode;
const MAX_WINDOW = 2 ** 31 - 1;
/** The largest length a frame header can carry (2^24-1). */
const MAX_FRAME_BYTES_LIMIT = 2 ** 24 - 1;

// =============================================================================================
// generic: h2spec's "Generic tests for HTTP/2 server"
// =============================================================================================

addRaw(
  'generic/1/1',
  'Sends a client connection preface',
  'The first HTTP/2 frame sent by the server MUST be a server connection preface.',
  async (conn) => {
    conn.send(CLIENT_PREFACE, settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 65_535]]));
    await conn.waitFor((ev) => {
      if (ev.kind !== 'frame') return undefined;
      const f = ev.frame;
      return f.type === FrameType.SETTINGS && !(f.flags & Flag.ACK)
        ? { pass: undefined }
        : { fail: describeFrame(f) };
    }, 'SETTINGS (flags:0x00) as the first frame');
  },
);

// --- 2. Streams and Multiplexing ---------------------------------------------------------------

exchange(
  'generic/2/1',
  'Sends a PRIORITY frame on idle stream',
  'The endpoint MUST accept PRIORITY frame.',
  () => [priorityFrame(1, { dependency: 0, weight: 255 }), pingFrame(PING_ZERO)],
  pingAck(PING_ZERO),
);

// INITIAL_WINDOW_SIZE = 0 keeps the response body (and so the stream) waiting.
exchange(
  'generic/2/2',
  'Sends a WINDOW_UPDATE frame on half-closed (remote) stream',
  'The endpoint MUST accept WINDOW_UPDATE frame.',
  (t) => [settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 0]]), getRequest(t), windowUpdateFrame(1, 1)],
  dataOn(1),
);

exchange(
  'generic/2/3',
  'Sends a PRIORITY frame on half-closed (remote) stream',
  'The endpoint MUST accept PRIORITY frame.',
  (t) => [
    settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 0]]),
    getRequest(t),
    priorityFrame(1, { dependency: 0, weight: 255 }),
    windowUpdateFrame(1, 1),
  ],
  dataOn(1),
);

exchange(
  'generic/2/4',
  'Sends a RST_STREAM frame on half-closed (remote) stream',
  'The endpoint MUST accept RST_STREAM frame.',
  (t) => [getRequest(t), rstStreamFrame(1, ErrorCode.CANCEL), pingFrame(PING_ZERO)],
  pingAckOrClose,
);

exchangeOnClosedStream(
  'generic/2/5',
  'Sends a PRIORITY frame on closed stream',
  'The endpoint MUST accept PRIORITY frame.',
  () => [priorityFrame(1, { dependency: 0, weight: 255 }), pingFrame(PING_ZERO)],
  pingAck(PING_ZERO),
);

// --- 3. Frame Definitions ---------------------------------------------------------------------

exchange(
  'generic/3.1/1',
  'Sends a DATA frame',
  'The endpoint MUST accept DATA frame.',
  (t) => [postHeaders(t), dataFrame(1, 'test', { endStream: true })],
  responseOn(1),
);

exchange(
  'generic/3.1/2',
  'Sends multiple DATA frames',
  'The endpoint MUST accept multiple DATA frames.',
  (t) => [postHeaders(t), dataFrame(1, 'test'), dataFrame(1, 'test', { endStream: true })],
  responseOn(1),
);

exchange(
  'generic/3.1/3',
  'Sends a DATA frame with padding',
  'The endpoint MUST accept DATA frame with padding.',
  (t) => [postHeaders(t), dataFrame(1, 'test', { endStream: true, padding: 'padded' })],
  responseOn(1),
);

exchange(
  'generic/3.2/1',
  'Sends a HEADERS frame',
  'The endpoint MUST accept HEADERS frame.',
  (t) => [getRequest(t)],
  responseOn(1),
);

exchange(
  'generic/3.2/2',
  'Sends a HEADERS frame with padding',
  'The endpoint MUST accept HEADERS frame with padding.',
  (t) => [getRequest(t, 1, { padding: 8 })],
  responseOn(1),
);

exchange(
  'generic/3.2/3',
  'Sends a HEADERS frame with priority',
  'The endpoint MUST accept HEADERS frame with priority.',
  (t) => [getRequest(t, 1, { priority: { dependency: 0, weight: 255 } })],
  responseOn(1),
);

exchange(
  'generic/3.3/1',
  'Sends a PRIORITY frame with priority 1',
  'The endpoint MUST accept PRIORITY frame with priority 1.',
  (t) => [priorityFrame(1, { dependency: 0, weight: 0 }), getRequest(t)],
  responseOn(1),
);

exchange(
  'generic/3.3/2',
  'Sends a PRIORITY frame with priority 256',
  'The endpoint MUST accept PRIORITY frame with priority 256.',
  (t) => [priorityFrame(1, { dependency: 0, weight: 255 }), getRequest(t)],
  responseOn(1),
);

exchange(
  'generic/3.3/3',
  'Sends a PRIORITY frame with stream dependency',
  'The endpoint MUST accept PRIORITY frame with stream dependency.',
  (t) => [priorityFrame(3, { dependency: 1, weight: 0 }), getRequest(t)],
  responseOn(1),
);

exchange(
  'generic/3.3/4',
  'Sends a PRIORITY frame with exclusive',
  'The endpoint MUST accept PRIORITY frame with exclusive.',
  (t) => [priorityFrame(1, { dependency: 0, exclusive: true, weight: 0 }), getRequest(t)],
  responseOn(1),
);

exchange(
  'generic/3.3/5',
  'Sends a PRIORITY frame for an idle stream, then send a HEADER frame for a lower stream ID',
  'The endpoint MUST respond the HEADER frame.',
  (t) => [priorityFrame(3, { dependency: 0, weight: 255 }), getRequest(t)],
  responseOn(1),
);

exchange(
  'generic/3.4/1',
  'Sends a RST_STREAM frame',
  'The endpoint MUST accept RST_STREAM frame.',
  (t) => [headersFrame(1, request(t)), rstStreamFrame(1, ErrorCode.CANCEL), pingFrame(PING_ZERO)],
  pingAckOrClose,
);

exchange(
  'generic/3.5/1',
  'Sends a SETTINGS frame',
  'The endpoint MUST accept SETTINGS frame.',
  () => [
    settingsFrame([
      [SettingId.HEADER_TABLE_SIZE, 4_096],
      [SettingId.ENABLE_PUSH, 1],
      [SettingId.MAX_CONCURRENT_STREAMS, 100],
      [SettingId.INITIAL_WINDOW_SIZE, 65_535],
      [SettingId.MAX_FRAME_SIZE, 16_384],
      [SettingId.MAX_HEADER_LIST_SIZE, 100],
    ]),
  ],
  settingsAck,
);

exchange(
  'generic/3.7/1',
  'Sends a PING frame',
  'The endpoint MUST accept PING frame.',
  () => [pingFrame('h2spec')],
  pingAck('h2spec'),
);

exchange(
  'generic/3.8/1',
  'Sends a GOAWAY frame',
  'The endpoint MUST accept GOAWAY frame.',
  () => [goawayFrame(0, ErrorCode.NO_ERROR, 'h2spec')],
  closed,
);

exchange(
  'generic/3.9/1',
  'Sends a WINDOW_UPDATE frame with stream ID 0',
  'The endpoint MUST accept WINDOW_UPDATE frame.',
  () => [windowUpdateFrame(0, 1), pingFrame(PING_ZERO)],
  anyPing,
);

exchange(
  'generic/3.9/2',
  'Sends a WINDOW_UPDATE frame with stream ID 1',
  'The endpoint MUST accept WINDOW_UPDATE frame.',
  (t) => [getRequest(t), windowUpdateFrame(1, 1)],
  responseOn(1),
);

exchange(
  'generic/3.10/1',
  'Sends a CONTINUATION frame',
  'The endpoint MUST accept CONTINUATION frame.',
  (t) => {
    const block = request(t);
    return [
      headersFrame(1, block.subarray(0, 5), { endStream: true, endHeaders: false }),
      continuationFrame(1, block.subarray(5), true),
    ];
  },
  responseOn(1),
);

exchange(
  'generic/3.10/2',
  'Sends multiple CONTINUATION frames',
  'The endpoint MUST accept multiple CONTINUATION frames.',
  (t) => {
    const block = request(t);
    return [
      headersFrame(1, block.subarray(0, 5), { endStream: true, endHeaders: false }),
      continuationFrame(1, block.subarray(5, 10), false),
      continuationFrame(1, block.subarray(10), true),
    ];
  },
  responseOn(1),
);

// --- 4. HTTP Message Exchanges ------------------------------------------------------------------

exchange(
  'generic/4/1',
  'Sends a GET request',
  'The endpoint MUST respond to the request.',
  (t) => [getRequest(t)],
  responseOn(1),
);

exchange(
  'generic/4/2',
  'Sends a HEAD request',
  'The endpoint MUST respond to the request.',
  (t) => [headersFrame(1, request(t, 'HEAD'), { endStream: true })],
  responseOn(1),
);

exchange(
  'generic/4/3',
  'Sends a POST request',
  'The endpoint MUST respond to the request.',
  (t) => [postHeaders(t), dataFrame(1, 'test', { endStream: true })],
  responseOn(1),
);

exchange(
  'generic/4/4',
  'Sends a POST request with trailers',
  'The endpoint MUST respond to the request.',
  (t) => [
    postHeaders(t, [['trailer', 'x-test']]),
    dataFrame(1, 'test'),
    headersFrame(1, hpackBlock([['x-test', 'ok']]), { endStream: true }),
  ],
  responseOn(1),
);

// --- 5. HPACK: each representation of RFC 7541 section 6, appended to a valid request -------------
// h2spec's byte strings for these are partly mislabelled (its "indexed name" cases send new names);
// these send what each title says. Huffman strings (RFC 7541 Appendix B): "x-test" = f2 b2 4a 84 ff,
// "h2spec" = 9c 48 ac a4. `user-agent` is static table index 58.

const HUFF_X_TEST = Buffer.from('85f2b24a84ff', 'hex');
const HUFF_H2SPEC = Buffer.from('849c48aca4', 'hex');
const USER_AGENT_INDEX = 58;
const X_TEST = hpackString('x-test');
const H2SPEC = hpackString('h2spec');

/** A literal representation's first octet and the prefix of its name index (RFC 7541 6.2.1-6.2.3). */
type LiteralKind = readonly [high: number, prefixBits: number];
const INCREMENTAL_INDEXING: LiteralKind = [0x40, 6];
const WITHOUT_INDEXING: LiteralKind = [0x00, 4];
const NEVER_INDEXED: LiteralKind = [0x10, 4];

/** A literal field named by static index 58 (`user-agent`). */
function indexedName([high, prefixBits]: LiteralKind, value: Buffer): Buffer {
  return Buffer.concat([hpackInteger(USER_AGENT_INDEX, prefixBits, high), value]);
}

/** A literal field with a new name (index 0). */
function newName([high]: LiteralKind, name: Buffer, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([high]), name, value]);
}

const hpackRepresentations: ReadonlyArray<readonly [string, Buffer]> = [
  ['Sends a indexed header field representation', hpackIndexed(USER_AGENT_INDEX)],
  [
    'Sends a literal header field with incremental indexing - indexed name',
    indexedName(INCREMENTAL_INDEXING, H2SPEC),
  ],
  [
    'Sends a literal header field with incremental indexing - indexed name (with Huffman coding)',
    indexedName(INCREMENTAL_INDEXING, HUFF_H2SPEC),
  ],
  [
    'Sends a literal header field with incremental indexing - new name',
    newName(INCREMENTAL_INDEXING, X_TEST, H2SPEC),
  ],
  [
    'Sends a literal header field with incremental indexing - new name (with Huffman coding)',
    newName(INCREMENTAL_INDEXING, HUFF_X_TEST, HUFF_H2SPEC),
  ],
  ['Sends a literal header field without indexing - indexed name', indexedName(WITHOUT_INDEXING, H2SPEC)],
  [
    'Sends a literal header field without indexing - indexed name (with Huffman coding)',
    indexedName(WITHOUT_INDEXING, HUFF_H2SPEC),
  ],
  ['Sends a literal header field without indexing - new name', newName(WITHOUT_INDEXING, X_TEST, H2SPEC)],
  [
    'Sends a literal header field without indexing - new name (huffman encoded)',
    newName(WITHOUT_INDEXING, HUFF_X_TEST, HUFF_H2SPEC),
  ],
  ['Sends a literal header field never indexed - indexed name', indexedName(NEVER_INDEXED, H2SPEC)],
  [
    'Sends a literal header field never indexed - indexed name (huffman encoded)',
    indexedName(NEVER_INDEXED, HUFF_H2SPEC),
  ],
  ['Sends a literal header field never indexed - new name', newName(NEVER_INDEXED, X_TEST, H2SPEC)],
  [
    'Sends a literal header field never indexed - new name (huffman encoded)',
    newName(NEVER_INDEXED, HUFF_X_TEST, HUFF_H2SPEC),
  ],
];

/**
 * h2spec's own encoder indexes and Huffman-codes every request, so its whole run leans on the
 * server's dynamic table; ours never indexes. So after a literal WITH incremental indexing the block
 * also refers to the entry just inserted (index 62, RFC 7541 2.3.3), and a second request on
 * stream 3 refers to it again: the server must have kept it across header blocks.
 */
const FIRST_DYNAMIC_INDEX = 62;

hpackRepresentations.forEach(([title, rep], i) => {
  const inserts = title.includes('with incremental indexing');
  add(`generic/5/${i + 1}`, title, 'The endpoint MUST accept the representation.', async (conn, t) => {
    // The entry (32 + name + value octets) only exists if the server's table can hold it.
    const tableSize = conn.serverSettings.get(SettingId.HEADER_TABLE_SIZE) ?? 4_096;
    const indexes = inserts && tableSize >= 64;
    const reference = indexes ? hpackIndexed(FIRST_DYNAMIC_INDEX) : Buffer.alloc(0);
    conn.send(headersFrame(1, Buffer.concat([request(t), rep, reference]), { endStream: true }));
    await conn.expectHeaders(1);
    if (!indexes) return;
    conn.send(headersFrame(3, Buffer.concat([request(t), reference]), { endStream: true }));
    await conn.expectFrame(
      (f) => f.type === FrameType.HEADERS && f.streamId === 3,
      'HEADERS (stream_id:3) for a request that refers to the dynamic table',
    );
  });
});

exchange(
  'generic/5/14',
  'Sends a dynamic table size update',
  'The endpoint MUST accept dynamic table size update',
  (t) => [headersFrame(1, Buffer.concat([hpackSizeUpdate(0), request(t)]), { endStream: true })],
  responseOn(1),
);

exchange(
  'generic/5/15',
  'Sends multiple dynamic table size update',
  'The endpoint MUST accept multiple dynamic table size update',
  (t, conn) => {
    // 0, then back up to the limit the server allows (4,096 unless it advertised less).
    const limit = Math.min(4_096, conn.serverSettings.get(SettingId.HEADER_TABLE_SIZE) ?? 4_096);
    const updates = Buffer.concat([hpackSizeUpdate(0), hpackSizeUpdate(limit)]);
    return [headersFrame(1, Buffer.concat([updates, request(t)]), { endStream: true })];
  },
  responseOn(1),
);

// =============================================================================================
// http2: RFC 7540 / RFC 9113
// =============================================================================================

// --- 3.5 HTTP/2 Connection Preface --------------------------------------------------------------

addRaw(
  'http2/3.5/1',
  'Sends client connection preface',
  'The server connection preface MUST be the first frame the server sends in the HTTP/2 connection.',
  async (conn) => {
    conn.send(CLIENT_PREFACE, settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 65_535]]));
    await conn.expectFirstOfType(FrameType.SETTINGS, (f) => !(f.flags & Flag.ACK), 'SETTINGS (flags:0x00)');
  },
);

addRaw(
  'http2/3.5/2',
  'Sends invalid connection preface',
  'The endpoint MUST terminate the TCP connection.',
  async (conn) => {
    conn.send(Buffer.from('INVALID CONNECTION PREFACE\r\n\r\n', 'latin1'));
    await conn.expectClose();
  },
);

// --- 4.1 Frame Format -----------------------------------------------------------------------------

exchange(
  'http2/4.1/1',
  'Sends a frame with unknown type',
  'The endpoint MUST ignore and discard any frame that has a type that is unknown.',
  () => [frame(0x16, 0, 0, Buffer.alloc(8)), pingFrame(PING_ZERO)],
  anyPing,
);

// PING with flags 0x16: bits without meaning for PING (ACK, 0x1, is not among them).
exchange(
  'http2/4.1/2',
  'Sends a frame with undefined flag',
  'The endpoint MUST ignore any flags that is undefined.',
  () => [frame(FrameType.PING, 0x16, 0, PING_ZERO)],
  pingAck(PING_ZERO),
);

exchange(
  'http2/4.1/3',
  'Sends a frame with reserved field bit',
  'The endpoint MUST ignore the value of reserved field.',
  () => [frame(FrameType.PING, 0x16, 0, PING_ZERO, { reservedBit: true })],
  pingAck(PING_ZERO),
);

// --- 4.2 Frame Size -------------------------------------------------------------------------------

/** One octet more than the server's SETTINGS_MAX_FRAME_SIZE; skips if no frame can be that long. */
function frameLargerThanAllowed(conn: RawConnection): number {
  const max = conn.serverMaxFrameSize;
  if (max >= MAX_FRAME_BYTES_LIMIT) {
    throw new SkipCase(`SETTINGS_MAX_FRAME_SIZE is ${max}: no frame length can exceed it`);
  }
  return max + 1;
}

exchange(
  'http2/4.2/1',
  'Sends a DATA frame with 2^14 octets in length',
  'The endpoint MUST be capable of receiving and minimally processing frames up to 2^14 octets in length.',
  (t) => [postHeaders(t), dataFrame(1, Buffer.alloc(2 ** 14, 'x'), { endStream: true })],
  anyResponse,
);

exchange(
  'http2/4.2/2',
  'Sends a large size DATA frame that exceeds the SETTINGS_MAX_FRAME_SIZE',
  'The endpoint MUST send an error code of FRAME_SIZE_ERROR.',
  (t, conn) => {
    const size = frameLargerThanAllowed(conn);
    return [postHeaders(t), dataFrame(1, Buffer.alloc(size, 'x'), { endStream: true })];
  },
  streamError(1, FRAME_SIZE_ERROR),
);

exchange(
  'http2/4.2/3',
  'Sends a large size HEADERS frame that exceeds the SETTINGS_MAX_FRAME_SIZE',
  'The endpoint MUST respond with a connection error of type FRAME_SIZE_ERROR.',
  (t, conn) => {
    // h2spec: 5 dummy headers of 4,000 octets; as many as it takes to exceed the server's limit.
    const count = Math.max(5, Math.ceil(frameLargerThanAllowed(conn) / DUMMY_VALUE_BYTES) + 1);
    return [headersFrame(1, Buffer.concat([request(t), dummyBlock(count)]), { endStream: true })];
  },
  connectionError(FRAME_SIZE_ERROR),
);

// --- 4.3 Header Compression and Decompression -----------------------------------------------------

// h2spec sends these two twice, as 4.3/2 and 6.2/1, and as 4.3/3 and 6.2/2: a header block
// interrupted by a PRIORITY frame, or by the HEADERS of another stream, before its CONTINUATION.
const priorityInHeaderBlock: Frames = (t) => [
  headersFrame(1, request(t), { endHeaders: false }),
  priorityFrame(1, { dependency: 0, weight: 255 }),
  continuationFrame(1, dummyBlock(), true),
];
const headersInHeaderBlock: Frames = (t) => [
  headersFrame(1, request(t), { endHeaders: false }),
  getRequest(t, 3),
  continuationFrame(1, dummyBlock(), true),
];

// Literal with incremental indexing, new name, with the name's length and string missing.
exchange(
  'http2/4.3/1',
  'Sends invalid header block fragment',
  'The endpoint MUST terminate the connection with a connection error of type COMPRESSION_ERROR.',
  () => [frame(FrameType.HEADERS, Flag.END_STREAM | Flag.END_HEADERS, 1, Buffer.from([0x40]))],
  connectionError(COMPRESSION_ERROR),
);

exchange(
  'http2/4.3/2',
  'Sends a PRIORITY frame while sending the header blocks',
  'The endpoint MUST terminate the connection with a connection error of type PROTOCOL_ERROR.',
  priorityInHeaderBlock,
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/4.3/3',
  'Sends a HEADERS frame to another stream while sending the header blocks',
  'The endpoint MUST terminate the connection with a connection error of type PROTOCOL_ERROR.',
  headersInHeaderBlock,
  connectionError(PROTOCOL_ERROR),
);

// --- 5.1 Stream States ----------------------------------------------------------------------------

exchange(
  'http2/5.1/1',
  'idle: Sends a DATA frame',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  () => [dataFrame(1, 'test', { endStream: true })],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/5.1/2',
  'idle: Sends a RST_STREAM frame',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  () => [rstStreamFrame(1, ErrorCode.CANCEL)],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/5.1/3',
  'idle: Sends a WINDOW_UPDATE frame',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  () => [windowUpdateFrame(1, 100)],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/5.1/4',
  'idle: Sends a CONTINUATION frame',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  (t) => [continuationFrame(1, request(t), true)],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/5.1/5',
  'half closed (remote): Sends a DATA frame',
  'The endpoint MUST respond with a stream error of type STREAM_CLOSED.',
  (t) => [getRequest(t), dataFrame(1, 'test', { endStream: true })],
  streamError(1, STREAM_CLOSED),
);

exchange(
  'http2/5.1/6',
  'half closed (remote): Sends a HEADERS frame',
  'The endpoint MUST respond with a stream error of type STREAM_CLOSED.',
  (t) => [getRequest(t), getRequest(t)],
  streamError(1, STREAM_CLOSED),
);

exchange(
  'http2/5.1/7',
  'half closed (remote): Sends a CONTINUATION frame',
  'The endpoint MUST respond with a stream error of type STREAM_CLOSED.',
  (t) => [getRequest(t), continuationFrame(1, request(t), true)],
  streamError(1, STREAM_CLOSED, PROTOCOL_ERROR),
);

exchange(
  'http2/5.1/8',
  'closed: Sends a DATA frame after sending RST_STREAM frame',
  'The endpoint MUST treat this as a stream error of type STREAM_CLOSED.',
  (t) => [
    headersFrame(1, request(t)),
    rstStreamFrame(1, ErrorCode.CANCEL),
    dataFrame(1, 'test', { endStream: true }),
  ],
  streamError(1, STREAM_CLOSED),
);

exchange(
  'http2/5.1/9',
  'closed: Sends a HEADERS frame after sending RST_STREAM frame',
  'The endpoint MUST treat this as a stream error of type STREAM_CLOSED.',
  (t) => [headersFrame(1, request(t)), rstStreamFrame(1, ErrorCode.CANCEL), getRequest(t)],
  streamError(1, STREAM_CLOSED),
);

exchange(
  'http2/5.1/10',
  'closed: Sends a CONTINUATION frame after sending RST_STREAM frame',
  'The endpoint MUST treat this as a stream error of type STREAM_CLOSED.',
  (t) => [
    headersFrame(1, request(t)),
    rstStreamFrame(1, ErrorCode.CANCEL),
    continuationFrame(1, dummyBlock(), true),
  ],
  streamError(1, STREAM_CLOSED, PROTOCOL_ERROR),
);

exchangeOnClosedStream(
  'http2/5.1/11',
  'closed: Sends a DATA frame',
  'The endpoint MUST treat this as a connection error of type STREAM_CLOSED.',
  () => [dataFrame(1, 'test', { endStream: true })],
  connectionError(STREAM_CLOSED),
);

exchangeOnClosedStream(
  'http2/5.1/12',
  'closed: Sends a HEADERS frame',
  'The endpoint MUST treat this as a connection error of type STREAM_CLOSED.',
  (t) => [getRequest(t)],
  connectionError(STREAM_CLOSED),
);

exchangeOnClosedStream(
  'http2/5.1/13',
  'closed: Sends a CONTINUATION frame',
  'The endpoint MUST treat this as a connection error of type STREAM_CLOSED.',
  () => [continuationFrame(1, dummyBlock(), true)],
  connectionError(STREAM_CLOSED, PROTOCOL_ERROR),
);

// --- 5.1.1 Stream Identifiers -------------------------------------------------------------------

exchange(
  'http2/5.1.1/1',
  'Sends even-numbered stream identifier',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  (t) => [getRequest(t, 2)],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/5.1.1/2',
  'Sends stream identifier that is numerically smaller than previous',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  (t) => [getRequest(t, 5), getRequest(t, 3)],
  connectionError(PROTOCOL_ERROR),
);

// --- 5.1.2 Stream Concurrency -------------------------------------------------------------------

/** Above this many streams the case is not run (h2spec would try, and time out). */
const MAX_STREAMS_TO_EXCEED = 200_000;

add(
  'http2/5.1.2/1',
  'Sends HEADERS frames that causes their advertised concurrent stream limit to be exceeded',
  'The endpoint MUST treat this as a stream error of type PROTOCOL_ERROR or REFUSED_STREAM.',
  async (conn, t) => {
    const max = conn.serverSettings.get(SettingId.MAX_CONCURRENT_STREAMS);
    if (max === undefined) throw new SkipCase('the server advertises no SETTINGS_MAX_CONCURRENT_STREAMS');
    if (max > MAX_STREAMS_TO_EXCEED) {
      throw new SkipCase(
        `SETTINGS_MAX_CONCURRENT_STREAMS is ${max}, above the ${MAX_STREAMS_TO_EXCEED} this suite opens`,
      );
    }
    // INITIAL_WINDOW_SIZE = 0: no response can finish, so every stream stays open.
    conn.send(settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 0]]));
    const block = request(t);
    const frames: Buffer[] = [];
    for (let i = 0; i <= max; i++) {
      frames.push(headersFrame(1 + 2 * i, block, { endStream: true }));
      if (frames.length === 1_000) conn.send(...frames.splice(0));
    }
    if (frames.length > 0) conn.send(...frames);
    const lastStream = 1 + 2 * max;
    const baseTimeout = conn.timeoutMs;
    await conn.waitFor(
      (ev) => {
        if (ev.kind === 'closed') return { pass: undefined };
        const f = ev.frame;
        if (f.type !== FrameType.RST_STREAM && f.type !== FrameType.GOAWAY) return undefined;
        const code = f.type === FrameType.RST_STREAM ? f.payload.readUInt32BE(0) : f.payload.readUInt32BE(4);
        const ok = code === PROTOCOL_ERROR || code === ErrorCode.REFUSED_STREAM;
        if (ok && (f.type === FrameType.GOAWAY || f.streamId === lastStream)) return { pass: undefined };
        return conn.strictCodes ? { fail: describeFrame(f) } : undefined;
      },
      `RST_STREAM (stream_id:${lastStream}, PROTOCOL_ERROR|REFUSED_STREAM) or GOAWAY or connection close`,
      baseTimeout + Math.ceil(max / 10),
    );
  },
);

// --- 5.3.1 Stream Dependencies ------------------------------------------------------------------

exchange(
  'http2/5.3.1/1',
  'Sends HEADERS frame that depends on itself',
  'The endpoint MUST treat this as a stream error of type PROTOCOL_ERROR.',
  (t) => [getRequest(t, 1, { priority: { dependency: 1, weight: 255 } })],
  streamError(1, PROTOCOL_ERROR),
);

exchange(
  'http2/5.3.1/2',
  'Sends PRIORITY frame that depend on itself',
  'The endpoint MUST treat this as a stream error of type PROTOCOL_ERROR.',
  () => [priorityFrame(1, { dependency: 1, weight: 255 })],
  streamError(1, PROTOCOL_ERROR),
);

// --- 5.4.1 Connection Error Handling --------------------------------------------------------------

exchange(
  'http2/5.4.1/1',
  'Sends an invalid PING frame for connection close',
  'The endpoint MUST close the TCP connection',
  () => [frame(FrameType.PING, 0, 3, PING_ZERO)],
  closed,
);

// --- 5.5 Extending HTTP/2 -------------------------------------------------------------------------

exchange(
  'http2/5.5/1',
  'Sends an unknown extension frame',
  'The endpoint MUST ignore unknown or unsupported values in all extensible protocol elements.',
  () => [frame(0xff, 0, 0, Buffer.alloc(8)), pingFrame(PING_ZERO)],
  anyPing,
);

exchange(
  'http2/5.5/2',
  'Sends an unknown extension frame in the middle of a header block',
  'The endpoint MUST treat as a connection error of type PROTOCOL_ERROR.',
  (t) => [getRequest(t, 1, { endHeaders: false }), frame(0x16, 0, 0, Buffer.alloc(8))],
  connectionError(PROTOCOL_ERROR),
);

// --- 6.1 DATA -------------------------------------------------------------------------------------

exchange(
  'http2/6.1/1',
  'Sends a DATA frame with 0x0 stream identifier',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  () => [dataFrame(0, 'test', { endStream: true })],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.1/2',
  'Sends a DATA frame on the stream that is not in "open" or "half-closed (local)" state',
  'The endpoint MUST respond with a stream error of type STREAM_CLOSED.',
  (t) => [
    headersFrame(1, request(t, 'POST'), { endStream: true }),
    dataFrame(1, 'test', { endStream: true }),
  ],
  streamError(1, STREAM_CLOSED),
);

// Length 5: Pad Length 6, then "Test" — the padding is longer than what is left of the payload.
exchange(
  'http2/6.1/3',
  'Sends a DATA frame with invalid pad length',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  (t) => [
    postHeaders(t, [['content-length', '4']]),
    frame(FrameType.DATA, Flag.END_STREAM | Flag.PADDED, 1, Buffer.from('\x06Test', 'latin1')),
  ],
  connectionError(PROTOCOL_ERROR),
);

// --- 6.2 HEADERS ----------------------------------------------------------------------------------

exchange(
  'http2/6.2/1',
  'Sends a HEADERS frame without the END_HEADERS flag, and a PRIORITY frame',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  priorityInHeaderBlock,
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.2/2',
  'Sends a HEADERS frame to another stream while sending a HEADERS frame',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  headersInHeaderBlock,
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.2/3',
  'Sends a HEADERS frame with 0x0 stream identifier',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  (t) => [getRequest(t, 0)],
  connectionError(PROTOCOL_ERROR),
);

// Payload = Pad Length (block length + 2) + block: the padding exceeds the frame.
// h2spec accepts a stream error as well.
exchange(
  'http2/6.2/4',
  'Sends a HEADERS frame with invalid pad length',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  (t) => {
    const block = request(t);
    const payload = Buffer.concat([Buffer.from([block.length + 2]), block]);
    return [frame(FrameType.HEADERS, Flag.END_STREAM | Flag.END_HEADERS | Flag.PADDED, 1, payload)];
  },
  streamError(1, PROTOCOL_ERROR),
);

// --- 6.3 PRIORITY ---------------------------------------------------------------------------------

exchange(
  'http2/6.3/1',
  'Sends a PRIORITY frame with 0x0 stream identifier',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  () => [priorityFrame(0, { dependency: 0, weight: 255 })],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.3/2',
  'Sends a PRIORITY frame with a length other than 5 octets',
  'The endpoint MUST respond with a stream error of type FRAME_SIZE_ERROR.',
  (t) => [getRequest(t), frame(FrameType.PRIORITY, 0, 1, Buffer.from([0x80, 0x00, 0x00, 0x01]))],
  streamError(1, FRAME_SIZE_ERROR),
);

// --- 6.4 RST_STREAM -------------------------------------------------------------------------------

exchange(
  'http2/6.4/1',
  'Sends a RST_STREAM frame with 0x0 stream identifier',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  () => [rstStreamFrame(0, ErrorCode.CANCEL)],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.4/2',
  'Sends a RST_STREAM frame on a idle stream',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  () => [rstStreamFrame(1, ErrorCode.CANCEL)],
  connectionError(PROTOCOL_ERROR),
);

// RFC 9113 asks for a connection error; h2spec accepts a stream error too.
exchange(
  'http2/6.4/3',
  'Sends a RST_STREAM frame with a length other than 4 octets',
  'The endpoint MUST respond with a connection error of type FRAME_SIZE_ERROR.',
  (t) => [getRequest(t), frame(FrameType.RST_STREAM, 0, 1, Buffer.alloc(3))],
  streamError(1, FRAME_SIZE_ERROR),
);

// --- 6.5 SETTINGS ---------------------------------------------------------------------------------

exchange(
  'http2/6.5/1',
  'Sends a SETTINGS frame with ACK flag and payload',
  'The endpoint MUST respond with a connection error of type FRAME_SIZE_ERROR.',
  () => [frame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(1))],
  connectionError(FRAME_SIZE_ERROR),
);

exchange(
  'http2/6.5/2',
  'Sends a SETTINGS frame with a stream identifier other than 0x0',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  () => [frame(FrameType.SETTINGS, 0, 1, Buffer.from('000300000064', 'hex'))],
  connectionError(PROTOCOL_ERROR),
);

// As h2spec: the header announces 9 octets but only 8 follow, so the server must judge the
// frame by its header (RFC 9113 4.2 lets it); one that waits for the 9th octet times out.
exchange(
  'http2/6.5/3',
  'Sends a SETTINGS frame with a length other than a multiple of 6 octets',
  'The endpoint MUST respond with a connection error of type FRAME_SIZE_ERROR.',
  () => [frame(FrameType.SETTINGS, 0, 0, Buffer.from('0003000000640002', 'hex'), { length: 9 })],
  streamError('any', PROTOCOL_ERROR, FRAME_SIZE_ERROR),
);

// --- 6.5.2 Defined SETTINGS Parameters ------------------------------------------------------------

exchange(
  'http2/6.5.2/1',
  'SETTINGS_ENABLE_PUSH (0x2): Sends the value other than 0 or 1',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  () => [settingsFrame([[SettingId.ENABLE_PUSH, 2]])],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.5.2/2',
  'SETTINGS_INITIAL_WINDOW_SIZE (0x4): Sends the value above the maximum flow control window size',
  'The endpoint MUST treat this as a connection error of type FLOW_CONTROL_ERROR.',
  () => [settingsFrame([[SettingId.INITIAL_WINDOW_SIZE, 2 ** 31]])],
  connectionError(FLOW_CONTROL_ERROR),
);

exchange(
  'http2/6.5.2/3',
  'SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value below the initial value',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  () => [settingsFrame([[SettingId.MAX_FRAME_SIZE, 16_383]])],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.5.2/4',
  'SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value above the maximum allowed frame size',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  () => [settingsFrame([[SettingId.MAX_FRAME_SIZE, 2 ** 24]])],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.5.2/5',
  'Sends a SETTINGS frame with unknown identifier',
  'The endpoint MUST ignore that setting.',
  () => [settingsFrame([[0xff, 1]]), pingFrame(PING_ZERO)],
  anyPing,
);

// --- 6.5.3 Settings Synchronization ---------------------------------------------------------------

/** SETTINGS `entries` applied (leaving a 1-octet stream window), a GET gets 1 octet of DATA first. */
function getWithWindow(entries: readonly SettingEntry[]): Body {
  return async (conn, t) => {
    await applySettings(conn, entries);
    conn.send(getRequest(t));
    await dataLength(1, 1)(conn);
  };
}

addNeedingBody(
  'http2/6.5.3/1',
  'Sends multiple values of SETTINGS_INITIAL_WINDOW_SIZE',
  'The endpoint MUST process the values in the settings in the order they apper.',
  1,
  getWithWindow([
    [SettingId.INITIAL_WINDOW_SIZE, 100],
    [SettingId.INITIAL_WINDOW_SIZE, 1],
  ]),
);

exchange(
  'http2/6.5.3/2',
  'Sends a SETTINGS frame without ACK flag',
  'The endpoint MUST immediately emit a SETTINGS frame with the ACK flag set.',
  () => [settingsFrame([[SettingId.ENABLE_PUSH, 0]])],
  settingsAck,
);

// --- 6.7 PING -------------------------------------------------------------------------------------

exchange(
  'http2/6.7/1',
  'Sends a PING frame',
  'The endpoint MUST sends a PING frame with ACK, with an identical payload.',
  () => [pingFrame('h2spec')],
  pingAck('h2spec'),
);

// An answer to the ACK (payload "invalid") would be the first PING to arrive, and fail the case.
exchange(
  'http2/6.7/2',
  'Sends a PING frame with ACK',
  'The endpoint MUST NOT respond to PING frames with ACK.',
  () => [pingFrame('invalid', true), pingFrame('h2spec')],
  pingAck('h2spec'),
);

exchange(
  'http2/6.7/3',
  'Sends a PING frame with a stream identifier field value other than 0x0',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  () => [frame(FrameType.PING, 0, 1, PING_ZERO)],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.7/4',
  'Sends a PING frame with a length field value other than 8',
  'The endpoint MUST treat this as a connection error of type FRAME_SIZE_ERROR.',
  () => [frame(FrameType.PING, 0, 0, Buffer.alloc(6))],
  connectionError(FRAME_SIZE_ERROR),
);

// --- 6.8 GOAWAY -----------------------------------------------------------------------------------

exchange(
  'http2/6.8/1',
  'Sends a GOAWAY frame with a stream identifier other than 0x0',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  () => [frame(FrameType.GOAWAY, 0, 1, Buffer.alloc(8))],
  connectionError(PROTOCOL_ERROR),
);

// --- 6.9 WINDOW_UPDATE ----------------------------------------------------------------------------

exchange(
  'http2/6.9/1',
  'Sends a WINDOW_UPDATE frame with a flow control window increment of 0',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  () => [windowUpdateFrame(0, 0)],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.9/2',
  'Sends a WINDOW_UPDATE frame with a flow control window increment of 0 on a stream',
  'The endpoint MUST respond with a stream error of type PROTOCOL_ERROR.',
  (t) => [headersFrame(1, request(t)), windowUpdateFrame(1, 0)],
  streamError(1, PROTOCOL_ERROR),
);

exchange(
  'http2/6.9/3',
  'Sends a WINDOW_UPDATE frame with a length other than 4 octets',
  'The endpoint MUST treat this as a connection error of type FRAME_SIZE_ERROR.',
  () => [frame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.from([0x00, 0x00, 0x01]))],
  connectionError(FRAME_SIZE_ERROR),
);

// --- 6.9.1 The Flow-Control Window ----------------------------------------------------------------

addNeedingBody(
  'http2/6.9.1/1',
  'Sends SETTINGS frame to set the initial window size to 1 and sends HEADERS frame',
  'The endpoint MUST NOT send a flow-controlled frame with a length that exceeds the space available.',
  1,
  getWithWindow([[SettingId.INITIAL_WINDOW_SIZE, 1]]),
);

// A GOAWAY is required here (a bare close does not do).
exchange(
  'http2/6.9.1/2',
  'Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1',
  'The endpoint MUST sends a GOAWAY frame with a FLOW_CONTROL_ERROR code.',
  () => [windowUpdateFrame(0, MAX_WINDOW), windowUpdateFrame(0, MAX_WINDOW)],
  (conn) =>
    conn.expectFirstOfType(
      FrameType.GOAWAY,
      (f) => frameErrorCode(f) === FLOW_CONTROL_ERROR,
      'GOAWAY (FLOW_CONTROL_ERROR)',
    ),
);

// A RST_STREAM on stream 1 is required here (a GOAWAY or close does not do).
exchange(
  'http2/6.9.1/3',
  'Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1 on a stream',
  'The endpoint MUST sends a RST_STREAM frame with a FLOW_CONTROL_ERROR code.',
  (t) => [headersFrame(1, request(t)), windowUpdateFrame(1, MAX_WINDOW), windowUpdateFrame(1, MAX_WINDOW)],
  (conn) =>
    conn.expectFirstOfType(
      FrameType.RST_STREAM,
      (f) => f.streamId === 1 && frameErrorCode(f) === FLOW_CONTROL_ERROR,
      'RST_STREAM (stream_id:1, FLOW_CONTROL_ERROR)',
    ),
);

// --- 6.9.2 Initial Flow-Control Window Size -------------------------------------------------------

addNeedingBody(
  'http2/6.9.2/1',
  'Changes SETTINGS_INITIAL_WINDOW_SIZE after sending HEADERS frame',
  'The endpoint MUST adjust the size of all stream flow-control windows.',
  1,
  async (conn, t) => {
    await applySettings(conn, [[SettingId.INITIAL_WINDOW_SIZE, 0]]);
    conn.send(getRequest(t));
    await applySettings(conn, [[SettingId.INITIAL_WINDOW_SIZE, 1]]);
    await dataLength(1, 1)(conn);
  },
);

addNeedingBody(
  'http2/6.9.2/2',
  'Sends a SETTINGS frame for window size to be negative',
  'The endpoint MUST track the negative flow-control window.',
  5,
  async (conn, t) => {
    await applySettings(conn, [[SettingId.INITIAL_WINDOW_SIZE, 3]]);
    conn.send(getRequest(t));
    await dataOn(1)(conn);
    // 3 - 3 sent + (2 - 3) = -1; a WINDOW_UPDATE of 2 leaves room for exactly 1 octet.
    await applySettings(conn, [[SettingId.INITIAL_WINDOW_SIZE, 2]]);
    conn.send(windowUpdateFrame(1, 2));
    await dataLength(1, 1)(conn);
  },
);

exchange(
  'http2/6.9.2/3',
  'Sends a SETTINGS_INITIAL_WINDOW_SIZE settings with an exceeded maximum window size value',
  'The endpoint MUST treat this as a connection error of type FLOW_CONTROL_ERROR.',
  () => [frame(FrameType.SETTINGS, 0, 0, Buffer.from('000480000000', 'hex'))],
  connectionError(FLOW_CONTROL_ERROR),
);

// --- 6.10 CONTINUATION ----------------------------------------------------------------------------

exchange(
  'http2/6.10/1',
  'Sends multiple CONTINUATION frames preceded by a HEADERS frame',
  'The endpoint must accept the frame.',
  (t) => [
    getRequest(t, 1, { endHeaders: false }),
    continuationFrame(1, dummyBlock(), false),
    continuationFrame(1, dummyBlock(), true),
  ],
  anyResponse,
);

exchange(
  'http2/6.10/2',
  'Sends a CONTINUATION frame followed by any frame other than CONTINUATION',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  (t) => [
    headersFrame(1, request(t, 'POST'), { endHeaders: false }),
    continuationFrame(1, dummyBlock(), false),
    dataFrame(1, 'test', { endStream: true }),
  ],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.10/3',
  'Sends a CONTINUATION frame with 0x0 stream identifier',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  (t) => [getRequest(t, 1, { endHeaders: false }), continuationFrame(0, dummyBlock(), true)],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.10/4',
  'Sends a CONTINUATION frame preceded by a HEADERS frame with END_HEADERS flag',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  (t) => [getRequest(t), continuationFrame(1, dummyBlock(), true)],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.10/5',
  'Sends a CONTINUATION frame preceded by a CONTINUATION frame with END_HEADERS flag',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  (t) => [
    getRequest(t, 1, { endHeaders: false }),
    continuationFrame(1, dummyBlock(), true),
    continuationFrame(1, dummyBlock(), true),
  ],
  connectionError(PROTOCOL_ERROR),
);

exchange(
  'http2/6.10/6',
  'Sends a CONTINUATION frame preceded by a DATA frame',
  'The endpoint MUST respond with a connection error of type PROTOCOL_ERROR.',
  (t) => [
    headersFrame(1, request(t, 'POST'), { endHeaders: false }),
    dataFrame(1, 'test', { endStream: true }),
    continuationFrame(1, dummyBlock(), false),
    continuationFrame(0, dummyBlock(), true),
  ],
  connectionError(PROTOCOL_ERROR),
);

// --- 7 Error Codes --------------------------------------------------------------------------------

exchange(
  'http2/7/1',
  'Sends a GOAWAY frame with unknown error code',
  'The endpoint MUST NOT trigger any special behavior.',
  () => [goawayFrame(0, 0xff)],
  closed,
);

exchange(
  'http2/7/2',
  'Sends a RST_STREAM frame with unknown error code',
  'The endpoint MUST NOT trigger any special behavior.',
  (t) => [headersFrame(1, request(t, 'POST')), rstStreamFrame(1, 0xff), pingFrame(PING_ZERO)],
  anyPing,
);

// --- 8.1 HTTP Request/Response Exchange -----------------------------------------------------------

exchange(
  'http2/8.1/1',
  'Sends a second HEADERS frame without the END_STREAM flag',
  'The endpoint MUST respond with a stream error of type PROTOCOL_ERROR.',
  (t) => [postHeaders(t), dataFrame(1, 'test'), headersFrame(1, hpackBlock([['x-test', 'ok']]))],
  streamError(1, PROTOCOL_ERROR),
);

/** A request that must be refused as malformed (RFC 9113 8.1.1): stream error PROTOCOL_ERROR. */
function addMalformed(id: string, title: string, headers: (t: ConformanceTarget) => HeaderList): void {
  exchange(
    id,
    title,
    'The endpoint MUST respond with a stream error of type PROTOCOL_ERROR.',
    (t) => [headersFrame(1, hpackBlock(headers(t)), { endStream: true })],
    streamError(1, PROTOCOL_ERROR),
  );
}

addMalformed(
  'http2/8.1.2/1',
  'Sends a HEADERS frame that contains the header field name in uppercase letters',
  (t) => [...requestHeaders(t), ['X-TEST', 'ok']],
);

addMalformed('http2/8.1.2.1/1', 'Sends a HEADERS frame that contains a unknown pseudo-header field', (t) => [
  ...requestHeaders(t),
  [':test', 'ok'],
]);

addMalformed(
  'http2/8.1.2.1/2',
  'Sends a HEADERS frame that contains the pseudo-header field defined for response',
  (t) => [...requestHeaders(t), [':status', '200']],
);

// As h2spec: the trailers do not carry END_STREAM either.
exchange(
  'http2/8.1.2.1/3',
  'Sends a HEADERS frame that contains a pseudo-header field as trailers',
  'The endpoint MUST respond with a stream error of type PROTOCOL_ERROR.',
  (t) => [postHeaders(t), dataFrame(1, 'test'), headersFrame(1, hpackBlock([[':method', 'POST']]))],
  streamError(1, PROTOCOL_ERROR),
);

addMalformed(
  'http2/8.1.2.1/4',
  'Sends a HEADERS frame that contains a pseudo-header field that appears in a header block after a regular header field',
  (t) => [['x-test', 'ok'], ...requestHeaders(t)],
);

addMalformed(
  'http2/8.1.2.2/1',
  'Sends a HEADERS frame that contains the connection-specific header field',
  (t) => [...requestHeaders(t), ['connection', 'keep-alive']],
);

addMalformed(
  'http2/8.1.2.2/2',
  'Sends a HEADERS frame that contains the TE header field with any value other than "trailers"',
  (t) => [...requestHeaders(t), ['trailers', 'test'], ['te', 'trailers, deflate']],
);

function without(t: ConformanceTarget, name: string): [string, string][] {
  return requestHeaders(t).filter(([n]) => n !== name);
}
function duplicated(t: ConformanceTarget, name: string): [string, string][] {
  const headers = requestHeaders(t);
  const field = headers.find(([n]) => n === name);
  if (field === undefined) throw new ConformanceError(`no ${name} in the request`);
  return [...headers, [name, field[1]]];
}

addMalformed('http2/8.1.2.3/1', 'Sends a HEADERS frame with empty ":path" pseudo-header field', (t) =>
  requestHeaders(t).map(([n, v]): [string, string] => [n, n === ':path' ? '' : v]),
);
addMalformed('http2/8.1.2.3/2', 'Sends a HEADERS frame that omits ":method" pseudo-header field', (t) =>
  without(t, ':method'),
);
addMalformed('http2/8.1.2.3/3', 'Sends a HEADERS frame that omits ":scheme" pseudo-header field', (t) =>
  without(t, ':scheme'),
);
addMalformed('http2/8.1.2.3/4', 'Sends a HEADERS frame that omits ":path" pseudo-header field', (t) =>
  without(t, ':path'),
);
addMalformed('http2/8.1.2.3/5', 'Sends a HEADERS frame with duplicated ":method" pseudo-header field', (t) =>
  duplicated(t, ':method'),
);
addMalformed('http2/8.1.2.3/6', 'Sends a HEADERS frame with duplicated ":scheme" pseudo-header field', (t) =>
  duplicated(t, ':scheme'),
);
addMalformed('http2/8.1.2.3/7', 'Sends a HEADERS frame with duplicated ":path" pseudo-header field', (t) =>
  duplicated(t, ':path'),
);

exchange(
  'http2/8.1.2.6/1',
  'Sends a HEADERS frame with the "content-length" header field which does not equal the DATA frame payload length',
  'The endpoint MUST treat this as a stream error of type PROTOCOL_ERROR.',
  (t) => [postHeaders(t, [['content-length', '1']]), dataFrame(1, 'test', { endStream: true })],
  streamError(1, PROTOCOL_ERROR),
);

exchange(
  'http2/8.1.2.6/2',
  'Sends a HEADERS frame with the "content-length" header field which does not equal the sum of the multi DATA frames payload length',
  'The endpoint MUST treat this as a stream error of type PROTOCOL_ERROR.',
  (t) => [
    postHeaders(t, [['content-length', '1']]),
    dataFrame(1, 'test'),
    dataFrame(1, 'test', { endStream: true }),
  ],
  streamError(1, PROTOCOL_ERROR),
);

// --- 8.2 Server Push ------------------------------------------------------------------------------

exchange(
  'http2/8.2/1',
  'Sends a PUSH_PROMISE frame',
  'The endpoint MUST treat this as a connection error of type PROTOCOL_ERROR.',
  (t) => [pushPromiseFrame(1, 3, request(t))],
  connectionError(PROTOCOL_ERROR),
);

// =============================================================================================
// hpack: RFC 7541 decoder errors (each a connection error of type COMPRESSION_ERROR)
// =============================================================================================

function addDecodingError(
  id: string,
  title: string,
  block: (t: ConformanceTarget, conn: RawConnection) => Buffer,
): void {
  exchange(
    id,
    title,
    'The endpoint MUST treat this as a decoding error.',
    (t, conn) => [headersFrame(1, block(t, conn), { endStream: true })],
    connectionError(COMPRESSION_ERROR),
  );
}

// Our encoder never inserts into the dynamic table, so the valid indices are exactly 1..61.
addDecodingError('hpack/2.3.3/1', 'Sends a indexed header field representation with invalid index', (t) =>
  Buffer.concat([request(t), hpackIndexed(70)]),
);
addDecodingError('hpack/2.3.3/2', 'Sends a literal header field representation with invalid index', (t) =>
  // Literal with incremental indexing, name index 70, empty value.
  Buffer.concat([request(t), hpackInteger(70, 6, 0x40), hpackString('')]),
);
addDecodingError('hpack/4.2/1', 'Sends a dynamic table size update at the end of header block', (t) =>
  Buffer.concat([request(t), hpackSizeUpdate(1)]),
);
// "x-test: test", the value's Huffman code "test" = 49 50 9f (20 bits + 4 bits of EOS prefix).
addDecodingError(
  'hpack/5.2/1',
  'Sends a Huffman-encoded string literal representation with padding longer than 7 bits',
  (t) => Buffer.concat([request(t), Buffer.from([0x00]), HUFF_X_TEST, Buffer.from('8449509fff', 'hex')]),
);
addDecodingError('hpack/5.2/2', 'Sends a Huffman-encoded string literal representation padded by zero', (t) =>
  Buffer.concat([request(t), Buffer.from([0x00]), HUFF_X_TEST, Buffer.from('83495090', 'hex')]),
);
addDecodingError(
  'hpack/5.2/3',
  'Sends a Huffman-encoded string literal representation containing the EOS symbol',
  // 30 one-bits (EOS), then "test" and the 1-bit padding.
  (t) =>
    Buffer.concat([request(t), Buffer.from([0x00]), HUFF_X_TEST, Buffer.from('87fffffffd25427f', 'hex')]),
);
addDecodingError('hpack/6.1/1', 'Sends a indexed header field representation with index 0', (t) =>
  Buffer.concat([request(t), Buffer.from([0x80])]),
);
addDecodingError(
  'hpack/6.3/1',
  'Sends a dynamic table size update larger than the value of SETTINGS_HEADER_TABLE_SIZE',
  (t, conn) => {
    const limit = conn.serverSettings.get(SettingId.HEADER_TABLE_SIZE) ?? 4_096;
    return Buffer.concat([hpackSizeUpdate(limit + 1), request(t)]);
  },
);

// =============================================================================================

export const ALL_CASES: readonly ConformanceCase[] = cases;

/** How many cases h2spec runs by default (strict-only cases excluded). */
export const H2SPEC_CASE_COUNT = 146;
