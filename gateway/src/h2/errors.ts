import { errorCodeName } from './constants.js';

/**
 * A connection error (RFC 9113 5.4.1): the connection ends with GOAWAY carrying `code`. Thrown only
 * inside frame handling, where the connection catches it; never escapes to callers.
 */
export class ConnectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`${errorCodeName(code)}: ${message}`);
    this.name = 'ConnectionError';
  }
}

/** A stream error (RFC 9113 5.4.2): only the stream ends, with RST_STREAM carrying `code`. */
export class StreamError extends Error {
  constructor(
    readonly streamId: number,
    readonly code: number,
    message: string,
  ) {
    super(`${errorCodeName(code)} on stream ${streamId}: ${message}`);
    this.name = 'StreamError';
  }
}
