import type { ServiceDefinition } from '@grpc/grpc-js';

/**
 * A test-only gRPC service the gateway has never seen (it carries any method), used by the fault
 * suites and the soak for the call kinds the worker contract lacks: client streaming and bidi, plus a
 * slow unary and a flooding server stream. Messages are JSON in the raw message bytes: the gateway
 * forwards bytes without decoding them, so no .proto is needed on either side.
 *
 * Like the worker (REFERENCE.md 5.3), a probe process binds the first `session-id` it serves and
 * answers any other session with INTERNAL `Session conflict: was=<bound>, now=<header>`; that is how
 * the suites see a broken exclusive binding.
 */
export const PROBE_SERVICE = 'stickygw.probe.Probe';

export const PROBE_METHODS = {
  /** Unary: `{delayMs?, hold?}` → one reply after `delayMs` (or never, with `hold`). */
  unary: `/${PROBE_SERVICE}/Unary`,
  /** Client streaming: any number of `{seq}` → one reply with every seq received, at half-close. */
  collect: `/${PROBE_SERVICE}/Collect`,
  /** Bidi: each `{seq, reply?}` is answered with `{seq, seqs}` unless `reply` is false; ends at half-close. */
  chat: `/${PROBE_SERVICE}/Chat`,
  /** Server streaming: `{count, bytes}` → `count` replies (0 = until cancelled), each padded to `bytes`. */
  flood: `/${PROBE_SERVICE}/Flood`,
  /** Unary, binds no session: the process's {@link ProbeStats}, for tests that call the probe directly. */
  stats: `/${PROBE_SERVICE}/Stats`,
} as const;

/** Counters of one probe process. */
export interface ProbeStats {
  /** Flood replies handed to the transport so far, over all calls. */
  readonly floodWritten: number;
  /** Flood calls that ended by cancellation. */
  readonly floodCancelled: number;
  /** Collect messages received so far, over all calls. */
  readonly collectReceived: number;
}

export interface ProbeRequest {
  readonly seq?: number;
  readonly reply?: boolean;
  readonly delayMs?: number;
  readonly hold?: boolean;
  readonly count?: number;
  readonly bytes?: number;
}

export interface ProbeReply {
  /** The probe's instance id. */
  readonly pod: string;
  /** The session bound to the probe process (equals the caller's `session-id`). */
  readonly session: string;
  readonly kind: 'unary' | 'collect' | 'chat' | 'flood';
  /** chat/flood: the seq answered; collect: the number of messages received. */
  readonly seq: number;
  /** collect and chat: every seq received on this call so far, in order. */
  readonly seqs?: readonly number[];
  readonly padding?: string;
}

export function encodeProbe(value: ProbeRequest | ProbeReply): Buffer {
  return Buffer.from(JSON.stringify(value));
}

export function decodeProbe<T>(bytes: Buffer): T {
  return JSON.parse(bytes.toString('utf8')) as T;
}

const identity = (bytes: Buffer) => bytes;

function method(path: string, requestStream: boolean, responseStream: boolean) {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

/** The grpc-js service definition (raw bytes both ways), for the server and generic clients. */
export const probeServiceDefinition: ServiceDefinition = {
  Unary: method(PROBE_METHODS.unary, false, false),
  Collect: method(PROBE_METHODS.collect, true, false),
  Chat: method(PROBE_METHODS.chat, true, true),
  Flood: method(PROBE_METHODS.flood, false, true),
  Stats: method(PROBE_METHODS.stats, false, false),
};
