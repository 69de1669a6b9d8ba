/** HTTP/2 frame types, flags, settings and error codes used by the relay (RFC 9113). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
} as const;

export const ErrorCode = { NO_ERROR: 0x0, PROTOCOL_ERROR: 0x1, INTERNAL_ERROR: 0x2, CANCEL: 0x8 } as const;

export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const DEFAULT_WINDOW = 65_535;
export const DEFAULT_MAX_FRAME = 16_384;

/** A 9-byte frame header (RFC 9113 4.1). */
export function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const header = Buffer.allocUnsafe(9);
  header[0] = length >>> 16;
  header[1] = (length >>> 8) & 0xff;
  header[2] = length & 0xff;
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return header;
}

/** A whole frame with a 4-byte payload (WINDOW_UPDATE increment, RST_STREAM code). */
export function u32Frame(type: number, streamId: number, value: number): Buffer {
  const frame = Buffer.allocUnsafe(13);
  frame[0] = 0;
  frame[1] = 0;
  frame[2] = 4;
  frame[3] = type;
  frame[4] = 0;
  frame.writeUInt32BE(streamId, 5);
  frame.writeUInt32BE(value, 9);
  return frame;
}

/** A SETTINGS frame from [id, value] pairs. */
export function settingsFrame(settings: readonly (readonly [number, number])[]): Buffer {
  const frame = Buffer.allocUnsafe(9 + 6 * settings.length);
  frameHeader(6 * settings.length, FrameType.SETTINGS, 0, 0).copy(frame, 0);
  settings.forEach(([id, value], i) => {
    frame.writeUInt16BE(id, 9 + 6 * i);
    frame.writeUInt32BE(value, 11 + 6 * i);
  });
  return frame;
}

export const SETTINGS_ACK = frameHeader(0, FrameType.SETTINGS, Flag.ACK, 0);
