import type net from 'node:net';
import { CLIENT_PREFACE, DEFAULT_MAX_FRAME, DEFAULT_WINDOW } from './frames.js';
import { HpackDecoder, HpackEncoder } from './hpack.js';
import type { RelayStream } from './relay-stream.js';

/** Receives every complete frame of a connection, in order. `buf[start, start + length)` is the payload. */
export type FrameSink = (
  connection: RelayConnection,
  type: number,
  flags: number,
  streamId: number,
  buf: Buffer,
  start: number,
  length: number,
) => void;

/** Connections with output waiting, written out together once the current I/O callbacks are done. */
const dirty: RelayConnection[] = [];
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  for (let i = 0; i < dirty.length; i++) (dirty[i] as RelayConnection).flush();
  dirty.length = 0;
}

/**
 * One HTTP/2 connection of the relay, either side: frame parsing, the HPACK state of both
 * directions, the peer's settings, the connection-level send window, and batched output. All
 * frames produced while handling one batch of input (on any connection) leave in one write per
 * socket, in a setImmediate after the I/O callbacks: one syscall for many calls.
 */
export class RelayConnection {
  readonly decoder = new HpackDecoder();
  readonly encoder = new HpackEncoder();
  /** Our send window on this connection (RFC 9113 6.9.1). */
  sendWindow = DEFAULT_WINDOW;
  /** The peer's SETTINGS_INITIAL_WINDOW_SIZE: the starting send window of each stream toward it. */
  peerInitialWindow = DEFAULT_WINDOW;
  peerMaxFrame = DEFAULT_MAX_FRAME;
  /** Bytes received on the connection not yet given back with a WINDOW_UPDATE. */
  uncredited = 0;
  /** This connection's stream id → stream. */
  readonly streams = new Map<number, RelayStream>();
  /** Streams with data queued toward this connection, waiting for window. */
  readonly blocked = new Set<RelayStream>();
  /** Highest stream id the peer opened (downstream): HEADERS at or below it do not open a stream. */
  lastPeerStreamId = 0;
  /** A header block still expecting CONTINUATION frames. */
  headerBlock: { streamId: number; flags: number; parts: Buffer[] } | undefined;
  /** Upstream only: a GOAWAY arrived, so no new streams go here. */
  draining = false;
  closed = false;
  private pending: Buffer | undefined;
  private prefaceLeft: number;
  private out: Buffer[] = [];
  private outBytes = 0;
  private queued = false;

  constructor(
    readonly socket: net.Socket,
    readonly isUpstream: boolean,
    private readonly sink: FrameSink,
  ) {
    this.prefaceLeft = isUpstream ? 0 : CLIENT_PREFACE.length;
    socket.setNoDelay(true);
  }

  /** Queues bytes for the socket; they leave with the next batch. */
  push(bytes: Buffer): void {
    this.out.push(bytes);
    this.outBytes += bytes.length;
    if (this.queued) return;
    this.queued = true;
    dirty.push(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushAll);
    }
  }

  flush(): void {
    this.queued = false;
    const out = this.out;
    if (out.length === 0) return;
    const bytes = out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    if (!this.closed) this.socket.write(bytes);
  }

  /** Feeds socket bytes: checks the client preface (downstream), then hands each complete frame to the sink. */
  receive(chunk: Buffer): void {
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    let p = 0;
    if (this.prefaceLeft > 0) {
      const n = Math.min(this.prefaceLeft, buf.length);
      const offset = CLIENT_PREFACE.length - this.prefaceLeft;
      if (buf.compare(CLIENT_PREFACE, offset, offset + n, 0, n) !== 0) {
        this.socket.destroy();
        return;
      }
      this.prefaceLeft -= n;
      p = n;
    }
    const total = buf.length;
    while (total - p >= 9) {
      const length = ((buf[p] as number) << 16) | ((buf[p + 1] as number) << 8) | (buf[p + 2] as number);
      if (total - p - 9 < length) break;
      const streamId = buf.readUInt32BE(p + 5) & 0x7fffffff;
      this.sink(this, buf[p + 3] as number, buf[p + 4] as number, streamId, buf, p + 9, length);
      if (this.closed) return;
      p += 9 + length;
    }
    this.pending = p < total ? buf.subarray(p) : undefined;
  }
}
