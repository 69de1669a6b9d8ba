import net from 'node:net';
import {
  DEFAULT_WINDOW,
  ErrorCode,
  Flag,
  FrameType,
  frameHeader,
  SETTINGS_ACK,
  Setting,
  settingsFrame,
  u32Frame,
} from './frames.js';
import { RelayConnection } from './relay-connection.js';
import type { RelayStream } from './relay-stream.js';

export interface FrameRelayOptions {
  /** `host:port` of the one upstream (h2c). */
  readonly upstream: string;
  readonly port?: number;
  readonly host?: string;
}

export interface FrameRelay {
  readonly port: number;
  close(): Promise<void>;
}

/** Receive windows the relay grants on both sides; credit goes back as relayed data leaves. */
const STREAM_WINDOW = 1 << 20;
const CONNECTION_WINDOW = 16 << 20;
const CONNECTION_CREDIT_AT = 1 << 20;
const STREAM_CREDIT_AT = STREAM_WINDOW >> 1;
const MAX_STREAM_ID = 2 ** 31 - 1;

const OUR_SETTINGS = settingsFrame([
  [Setting.ENABLE_PUSH, 0],
  [Setting.MAX_CONCURRENT_STREAMS, 100_000],
  [Setting.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
]);
const OUR_CONNECTION_WINDOW_UPDATE = u32Frame(FrameType.WINDOW_UPDATE, 0, CONNECTION_WINDOW - DEFAULT_WINDOW);

/**
 * A frame-level HTTP/2 relay for the plain route (bench prototype for issue 5): raw sockets,
 * HTTP/2 frames parsed and written by hand, HPACK re-coded per connection, many client connections
 * multiplexed onto one upstream connection with stream ids remapped, DATA payloads relayed as
 * slices of the received buffers, flow control on both sides. No routing, auth, retries, deadlines
 * or status mapping: it measures what the data path costs without node:http2.
 *
 * Limits of the prototype: the upstream's MAX_CONCURRENT_STREAMS is not enforced, PRIORITY is
 * ignored, and a broken upstream resets the calls in flight (RST_STREAM INTERNAL_ERROR) instead of
 * answering them with a gRPC status.
 */
export async function startFrameRelay(options: FrameRelayOptions): Promise<FrameRelay> {
  const [upstreamHost, upstreamPort] = splitHostPort(options.upstream);
  let upstream: RelayConnection | undefined;
  let nextUpstreamId = 1;
  const downstream = new Set<RelayConnection>();

  const upstreamConnection = (): RelayConnection => {
    if (upstream !== undefined && !upstream.closed && !upstream.draining && nextUpstreamId <= MAX_STREAM_ID) {
      return upstream;
    }
    const socket = net.connect(upstreamPort, upstreamHost);
    const connection = new RelayConnection(socket, true, onFrame);
    connection.push(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'));
    connection.push(OUR_SETTINGS);
    connection.push(OUR_CONNECTION_WINDOW_UPDATE);
    socket.on('data', (chunk: Buffer) => connection.receive(chunk));
    socket.on('error', () => {});
    socket.on('close', () => connectionClosed(connection));
    upstream = connection;
    nextUpstreamId = 1;
    return connection;
  };

  function connectionClosed(connection: RelayConnection): void {
    connection.closed = true;
    if (connection === upstream) upstream = undefined;
    downstream.delete(connection);
    for (const stream of connection.streams.values()) {
      const other = connection.isUpstream ? stream.down : stream.up;
      const otherId = connection.isUpstream ? stream.downId : stream.upId;
      other.push(
        u32Frame(
          FrameType.RST_STREAM,
          otherId,
          connection.isUpstream ? ErrorCode.INTERNAL_ERROR : ErrorCode.CANCEL,
        ),
      );
      other.streams.delete(otherId);
      other.blocked.delete(stream);
    }
    connection.streams.clear();
  }

  function onFrame(
    connection: RelayConnection,
    type: number,
    flags: number,
    streamId: number,
    buf: Buffer,
    start: number,
    length: number,
  ): void {
    switch (type) {
      case FrameType.DATA:
        onData(connection, flags, streamId, buf, start, length);
        return;
      case FrameType.HEADERS: {
        let from = start;
        let padding = 0;
        if (flags & Flag.PADDED) padding = buf[from++] as number;
        if (flags & Flag.PRIORITY) from += 5;
        const fragment = buf.subarray(from, start + length - padding);
        if (flags & Flag.END_HEADERS) onHeaderBlock(connection, streamId, flags, fragment);
        else connection.headerBlock = { streamId, flags, parts: [Buffer.from(fragment)] };
        return;
      }
      case FrameType.CONTINUATION: {
        const block = connection.headerBlock;
        if (block === undefined || block.streamId !== streamId) {
          connection.socket.destroy();
          return;
        }
        block.parts.push(Buffer.from(buf.subarray(start, start + length)));
        if (flags & Flag.END_HEADERS) {
          connection.headerBlock = undefined;
          onHeaderBlock(connection, streamId, block.flags, Buffer.concat(block.parts));
        }
        return;
      }
      case FrameType.SETTINGS:
        if ((flags & Flag.ACK) === 0) applySettings(connection, buf, start, length);
        return;
      case FrameType.WINDOW_UPDATE:
        onWindowUpdate(connection, streamId, buf.readUInt32BE(start) & 0x7fffffff);
        return;
      case FrameType.PING:
        if ((flags & Flag.ACK) === 0) {
          connection.push(frameHeader(8, FrameType.PING, Flag.ACK, 0));
          connection.push(Buffer.from(buf.subarray(start, start + 8)));
        }
        return;
      case FrameType.RST_STREAM:
        onReset(connection, streamId, buf.readUInt32BE(start));
        return;
      case FrameType.GOAWAY:
        if (connection.isUpstream) connection.draining = true;
        return;
      default:
        // PRIORITY, and extension frames, which RFC 9113 5.5 says to ignore.
        return;
    }
  }

  function onHeaderBlock(connection: RelayConnection, streamId: number, flags: number, block: Buffer): void {
    // Always decoded, even for a stream that is gone: the HPACK tables must see every block.
    const fields = connection.decoder.decode(block, 0, block.length);
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (!connection.isUpstream) {
      const existing = connection.streams.get(streamId);
      if (existing === undefined) {
        if (streamId <= connection.lastPeerStreamId) return;
        connection.lastPeerStreamId = streamId;
        openStream(connection, streamId, fields, endStream);
      } else if (endStream) {
        // Client trailers (gRPC clients send none): relayed as they are when no DATA waits before
        // them, else reduced to the END_STREAM they carry.
        if (existing.toUpQueue === undefined) {
          writeHeaders(existing.up, existing.upId, existing.up.encoder.encode(fields), true);
          existing.clientDone = true;
          maybeFinish(existing);
        } else {
          existing.toUpEndPending = true;
        }
      }
      return;
    }
    const stream = connection.streams.get(streamId);
    if (stream === undefined) return;
    if (endStream && stream.toDownQueue !== undefined) {
      // Trailers must follow the DATA still waiting for window; they are encoded when they go,
      // so the client's HPACK table sees blocks in the order they are encoded.
      stream.toDownTrailers = fields;
      return;
    }
    writeHeaders(stream.down, stream.downId, stream.down.encoder.encode(fields), endStream);
    if (endStream) {
      stream.backendDone = true;
      maybeFinish(stream);
    }
  }

  function openStream(down: RelayConnection, downId: number, fields: string[], endStream: boolean): void {
    const up = upstreamConnection();
    const upId = nextUpstreamId;
    nextUpstreamId += 2;
    const stream: RelayStream = {
      down,
      downId,
      up,
      upId,
      toUpWindow: up.peerInitialWindow,
      toDownWindow: down.peerInitialWindow,
      toUpQueue: undefined,
      toDownQueue: undefined,
      toUpEndPending: false,
      toDownTrailers: undefined,
      clientDone: endStream,
      backendDone: false,
      fromDownUncredited: 0,
      fromUpUncredited: 0,
    };
    down.streams.set(downId, stream);
    up.streams.set(upId, stream);
    writeHeaders(up, upId, up.encoder.encode(fields), endStream);
  }

  function writeHeaders(
    connection: RelayConnection,
    streamId: number,
    block: Buffer,
    endStream: boolean,
  ): void {
    const max = connection.peerMaxFrame;
    const end = endStream ? Flag.END_STREAM : 0;
    if (block.length <= max) {
      connection.push(frameHeader(block.length, FrameType.HEADERS, Flag.END_HEADERS | end, streamId));
      connection.push(block);
      return;
    }
    connection.push(frameHeader(max, FrameType.HEADERS, end, streamId));
    connection.push(block.subarray(0, max));
    for (let at = max; at < block.length; at += max) {
      const part = block.subarray(at, Math.min(at + max, block.length));
      const last = at + max >= block.length;
      connection.push(
        frameHeader(part.length, FrameType.CONTINUATION, last ? Flag.END_HEADERS : 0, streamId),
      );
      connection.push(part);
    }
  }

  function onData(
    connection: RelayConnection,
    flags: number,
    streamId: number,
    buf: Buffer,
    start: number,
    length: number,
  ): void {
    let from = start;
    let padding = 0;
    if (flags & Flag.PADDED) padding = (buf[from++] as number) + 1;
    const payloadLength = length - padding;
    const stream = connection.streams.get(streamId);
    // Padding, and DATA for a stream that is gone, is credited at once; the rest when relayed.
    creditConnection(connection, stream === undefined ? length : padding);
    if (stream === undefined) return;
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const payload = buf.subarray(from, from + payloadLength);
    if (connection.isUpstream) relayToDown(stream, payload, endStream);
    else relayToUp(stream, payload, endStream);
  }

  // ---- client → upstream ----

  function relayToUp(stream: RelayStream, payload: Buffer, endStream: boolean): void {
    if (stream.toUpQueue !== undefined) {
      if (payload.length > 0) stream.toUpQueue.push(payload);
      stream.toUpEndPending ||= endStream;
      return;
    }
    const up = stream.up;
    const n = Math.min(payload.length, stream.toUpWindow, up.sendWindow, up.peerMaxFrame);
    if (n === payload.length) {
      sendData(up, stream.upId, payload, endStream);
      stream.toUpWindow -= n;
      up.sendWindow -= n;
      creditFromDown(stream, n);
      if (endStream) {
        stream.clientDone = true;
        maybeFinish(stream);
      }
      return;
    }
    if (n > 0) {
      sendData(up, stream.upId, payload.subarray(0, n), false);
      stream.toUpWindow -= n;
      up.sendWindow -= n;
      creditFromDown(stream, n);
    }
    stream.toUpQueue = [payload.subarray(n)];
    stream.toUpEndPending = endStream;
    up.blocked.add(stream);
  }

  function flushToUp(stream: RelayStream): void {
    const queue = stream.toUpQueue;
    if (queue === undefined) return;
    const up = stream.up;
    while (queue.length > 0) {
      const head = queue[0] as Buffer;
      const n = Math.min(head.length, stream.toUpWindow, up.sendWindow, up.peerMaxFrame);
      if (n === 0) return;
      const last = n === head.length && queue.length === 1;
      sendData(up, stream.upId, head.subarray(0, n), last && stream.toUpEndPending);
      stream.toUpWindow -= n;
      up.sendWindow -= n;
      creditFromDown(stream, n);
      if (n === head.length) queue.shift();
      else queue[0] = head.subarray(n);
    }
    stream.toUpQueue = undefined;
    up.blocked.delete(stream);
    if (stream.toUpEndPending) {
      stream.clientDone = true;
      maybeFinish(stream);
    }
  }

  // ---- upstream → client ----

  function relayToDown(stream: RelayStream, payload: Buffer, endStream: boolean): void {
    if (stream.toDownQueue !== undefined) {
      if (payload.length > 0) stream.toDownQueue.push(payload);
      if (endStream) stream.toDownTrailers = [];
      return;
    }
    const down = stream.down;
    const n = Math.min(payload.length, stream.toDownWindow, down.sendWindow, down.peerMaxFrame);
    if (n === payload.length) {
      sendData(down, stream.downId, payload, endStream);
      stream.toDownWindow -= n;
      down.sendWindow -= n;
      creditFromUp(stream, n);
      if (endStream) {
        stream.backendDone = true;
        maybeFinish(stream);
      }
      return;
    }
    if (n > 0) {
      sendData(down, stream.downId, payload.subarray(0, n), false);
      stream.toDownWindow -= n;
      down.sendWindow -= n;
      creditFromUp(stream, n);
    }
    stream.toDownQueue = [payload.subarray(n)];
    // gRPC ends responses with trailers, not DATA END_STREAM; the rare DATA end becomes empty trailers.
    if (endStream) stream.toDownTrailers = [];
    down.blocked.add(stream);
  }

  function flushToDown(stream: RelayStream): void {
    const queue = stream.toDownQueue;
    if (queue === undefined) return;
    const down = stream.down;
    while (queue.length > 0) {
      const head = queue[0] as Buffer;
      const n = Math.min(head.length, stream.toDownWindow, down.sendWindow, down.peerMaxFrame);
      if (n === 0) return;
      sendData(down, stream.downId, head.subarray(0, n), false);
      stream.toDownWindow -= n;
      down.sendWindow -= n;
      creditFromUp(stream, n);
      if (n === head.length) queue.shift();
      else queue[0] = head.subarray(n);
    }
    stream.toDownQueue = undefined;
    down.blocked.delete(stream);
    const trailers = stream.toDownTrailers;
    if (trailers !== undefined) {
      stream.toDownTrailers = undefined;
      if (trailers.length === 0) sendData(down, stream.downId, Buffer.alloc(0), true);
      else writeHeaders(down, stream.downId, down.encoder.encode(trailers), true);
      stream.backendDone = true;
      maybeFinish(stream);
    }
  }

  function sendData(
    connection: RelayConnection,
    streamId: number,
    payload: Buffer,
    endStream: boolean,
  ): void {
    connection.push(frameHeader(payload.length, FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId));
    if (payload.length > 0) connection.push(payload);
  }

  // ---- flow control ----

  function creditConnection(connection: RelayConnection, n: number): void {
    if (n === 0) return;
    connection.uncredited += n;
    if (connection.uncredited >= CONNECTION_CREDIT_AT) {
      connection.push(u32Frame(FrameType.WINDOW_UPDATE, 0, connection.uncredited));
      connection.uncredited = 0;
    }
  }

  /** `n` bytes the client sent on this stream have left for the upstream: the client may send more. */
  function creditFromDown(stream: RelayStream, n: number): void {
    creditConnection(stream.down, n);
    if (stream.clientDone) return;
    stream.fromDownUncredited += n;
    if (stream.fromDownUncredited >= STREAM_CREDIT_AT) {
      stream.down.push(u32Frame(FrameType.WINDOW_UPDATE, stream.downId, stream.fromDownUncredited));
      stream.fromDownUncredited = 0;
    }
  }

  function creditFromUp(stream: RelayStream, n: number): void {
    creditConnection(stream.up, n);
    if (stream.backendDone) return;
    stream.fromUpUncredited += n;
    if (stream.fromUpUncredited >= STREAM_CREDIT_AT) {
      stream.up.push(u32Frame(FrameType.WINDOW_UPDATE, stream.upId, stream.fromUpUncredited));
      stream.fromUpUncredited = 0;
    }
  }

  function onWindowUpdate(connection: RelayConnection, streamId: number, increment: number): void {
    if (streamId === 0) {
      connection.sendWindow += increment;
      for (const stream of connection.blocked) {
        if (connection.isUpstream) flushToUp(stream);
        else flushToDown(stream);
        if (connection.sendWindow <= 0) break;
      }
      return;
    }
    const stream = connection.streams.get(streamId);
    if (stream === undefined) return;
    if (connection.isUpstream) {
      stream.toUpWindow += increment;
      flushToUp(stream);
    } else {
      stream.toDownWindow += increment;
      flushToDown(stream);
    }
  }

  function applySettings(connection: RelayConnection, buf: Buffer, start: number, length: number): void {
    for (let at = start; at + 6 <= start + length; at += 6) {
      const id = buf.readUInt16BE(at);
      const value = buf.readUInt32BE(at + 2);
      if (id === Setting.HEADER_TABLE_SIZE) connection.encoder.setTableSize(value);
      else if (id === Setting.MAX_FRAME_SIZE) connection.peerMaxFrame = value;
      else if (id === Setting.INITIAL_WINDOW_SIZE) {
        const delta = value - connection.peerInitialWindow;
        connection.peerInitialWindow = value;
        for (const stream of connection.streams.values()) {
          if (connection.isUpstream) stream.toUpWindow += delta;
          else stream.toDownWindow += delta;
        }
        if (delta > 0) {
          for (const stream of connection.blocked) {
            if (connection.isUpstream) flushToUp(stream);
            else flushToDown(stream);
          }
        }
      }
    }
    connection.push(SETTINGS_ACK);
  }

  // ---- ends ----

  function onReset(connection: RelayConnection, streamId: number, code: number): void {
    const stream = connection.streams.get(streamId);
    if (stream === undefined) return;
    const other = connection.isUpstream ? stream.down : stream.up;
    const otherId = connection.isUpstream ? stream.downId : stream.upId;
    // A stream the other side already finished needs no reset (an upstream's RST NO_ERROR after
    // its trailers only tells us to stop sending).
    const otherFinished = connection.isUpstream ? stream.backendDone : false;
    if (!otherFinished) other.push(u32Frame(FrameType.RST_STREAM, otherId, code));
    removeStream(stream);
  }

  function maybeFinish(stream: RelayStream): void {
    if (stream.clientDone && stream.backendDone) removeStream(stream);
  }

  function removeStream(stream: RelayStream): void {
    stream.down.streams.delete(stream.downId);
    stream.up.streams.delete(stream.upId);
    stream.down.blocked.delete(stream);
    stream.up.blocked.delete(stream);
  }

  const server = net.createServer((socket) => {
    const connection = new RelayConnection(socket, false, onFrame);
    downstream.add(connection);
    connection.push(OUR_SETTINGS);
    connection.push(OUR_CONNECTION_WINDOW_UPDATE);
    socket.on('data', (chunk: Buffer) => connection.receive(chunk));
    socket.on('error', () => {});
    socket.on('close', () => connectionClosed(connection));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  upstreamConnection();
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const connection of downstream) connection.socket.destroy();
        upstream?.socket.destroy();
      }),
  };
}

function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`upstream must be host:port, got "${address}"`);
  }
  return [address.slice(0, colon), port];
}
