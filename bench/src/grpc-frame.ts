/** One uncompressed gRPC length-prefixed message: flag byte 0, 4-byte big-endian length, payload. */
export function grpcFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + payload.length);
  frame[0] = 0;
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, 5);
  return frame;
}

/** A deterministic payload of `size` bytes (printable, so a dump of a failing run stays readable). */
export function benchPayload(size: number): Buffer {
  const payload = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) payload[i] = 97 + (i % 26);
  return payload;
}
