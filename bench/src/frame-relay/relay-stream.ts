import type { RelayConnection } from './relay-connection.js';

/**
 * One call as the relay sees it: the same stream on both connections, under two ids, with the
 * send window and pending output of each direction. Plain fields, no methods: the relay's
 * functions work on it (one small object per call, no event emitters, no closures).
 */
export interface RelayStream {
  readonly down: RelayConnection;
  readonly downId: number;
  readonly up: RelayConnection;
  readonly upId: number;
  /** Send windows of this stream toward the upstream and toward the client. */
  toUpWindow: number;
  toDownWindow: number;
  /** DATA waiting for window, per direction (undefined when none). */
  toUpQueue: Buffer[] | undefined;
  toDownQueue: Buffer[] | undefined;
  /** END_STREAM to send once the queue of that direction is empty. */
  toUpEndPending: boolean;
  /** Trailers (decoded fields) to encode and send, with END_STREAM, after the queued DATA. */
  toDownTrailers: string[] | undefined;
  /** END_STREAM has been sent toward the upstream (the client finished) / toward the client. */
  clientDone: boolean;
  backendDone: boolean;
  /** Bytes received on this stream from each side not yet credited back with a WINDOW_UPDATE. */
  fromDownUncredited: number;
  fromUpUncredited: number;
}
