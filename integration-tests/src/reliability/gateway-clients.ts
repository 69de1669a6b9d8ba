import {
  type CallOptions,
  Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientWritableStream,
  credentials,
  Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import {
  type EchoResponse__Output,
  type LoginResponse__Output,
  loadMyServiceProto,
  type MyServiceAPIClient,
} from '@stickygw/proto';
import {
  decodeProbe,
  encodeProbe,
  PROBE_METHODS,
  type ProbeReply,
  type ProbeRequest,
  type ProbeStats,
} from './probe-service.js';

/** How a call ended: `code` 0 with a value, or the status the client saw. `ms` is the wall time. */
export interface Outcome<T> {
  readonly code: number;
  readonly details: string;
  readonly value?: T;
  readonly ms: number;
}

/** What authenticated calls carry. */
export interface Session {
  readonly sessionId: string;
  readonly token: string;
}

const CHANNEL_OPTIONS = {
  // Every client gets its own HTTP/2 connection instead of grpc-js's shared subchannel.
  'grpc.use_local_subchannel_pool': 1,
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
} as const;

let proto: ReturnType<typeof loadMyServiceProto> | undefined;

export function myServiceClient(address: string): MyServiceAPIClient {
  proto ??= loadMyServiceProto();
  return new proto.my_service.MyServiceAPI(address, credentials.createInsecure(), CHANNEL_OPTIONS);
}

/** A raw-bytes client for the probe methods (and any other method) through the gateway. */
export function rawClient(address: string): Client {
  return new Client(address, credentials.createInsecure(), CHANNEL_OPTIONS);
}

export function sessionMetadata(session: Partial<Session>): Metadata {
  const metadata = new Metadata();
  if (session.token !== undefined) metadata.set('authorization', session.token);
  if (session.sessionId !== undefined) metadata.set('session-id', session.sessionId);
  return metadata;
}

function deadline(timeoutMs: number): CallOptions {
  return { deadline: Date.now() + timeoutMs };
}

/** Resolves a promise-shaped callback call into an {@link Outcome}. */
function settle<T>(started: number, resolve: (outcome: Outcome<T>) => void) {
  return (error: ServiceError | null, value?: T) => {
    const ms = performance.now() - started;
    if (error) resolve({ code: error.code, details: error.details, ms });
    else resolve({ code: status.OK, details: '', value: value as T, ms });
  };
}

export function login(
  client: MyServiceAPIClient,
  request: { username?: string; password?: string; session_id: string },
  timeoutMs = 5_000,
): Promise<Outcome<LoginResponse__Output>> {
  const started = performance.now();
  return new Promise((resolve) =>
    client.Login(
      { username: 'TestUser', password: 'TestPassword', ...request },
      new Metadata(),
      deadline(timeoutMs),
      settle(started, resolve),
    ),
  );
}

/** Logs in as TestUser with `sessionId`; throws unless Login answered OK. */
export async function openSession(client: MyServiceAPIClient, sessionId: string): Promise<Session> {
  const outcome = await login(client, { session_id: sessionId });
  if (outcome.value === undefined)
    throw new Error(`Login for ${sessionId} failed: ${outcome.code} ${outcome.details}`);
  return { sessionId, token: outcome.value.token };
}

export function echo(
  client: MyServiceAPIClient,
  session: Partial<Session>,
  timeoutMs = 5_000,
  value = 'reliability',
): Promise<Outcome<EchoResponse__Output>> {
  const started = performance.now();
  return new Promise((resolve) =>
    client.MyServiceEcho({ value }, sessionMetadata(session), deadline(timeoutMs), settle(started, resolve)),
  );
}

/** Events of a server stream, collected as they come (no backpressure: the reader keeps up). */
export class StreamRecorder<T> {
  readonly messages: T[] = [];
  /** The final status, once the stream ended (`code` 0 for a clean end). */
  ended: { code: number; details: string } | undefined;
  readonly #waiters: Array<() => void> = [];

  constructor(readonly call: ClientReadableStream<T> | ClientDuplexStream<Buffer, T>) {
    call.on('data', (message: T) => this.#record(() => this.messages.push(message)));
    call.on('error', (error: ServiceError) => this.#end(error.code, error.details));
    call.on('status', (s: { code: number; details: string }) => this.#end(s.code, s.details));
  }

  #end(code: number, details: string): void {
    if (this.ended === undefined) this.#record(() => (this.ended = { code, details }));
  }

  #record(change: () => void): void {
    change();
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Waits until `condition` holds (checked on every event), or fails after `timeoutMs`. */
  async until(condition: (recorder: this) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadlineAt = Date.now() + timeoutMs;
    while (!condition(this)) {
      const left = deadlineAt - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what} (messages: ${this.messages.length}, ended: ${JSON.stringify(this.ended)})`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async untilEnded(timeoutMs: number): Promise<{ code: number; details: string }> {
    await this.until((r) => r.ended !== undefined, timeoutMs, 'the stream to end');
    return this.ended as { code: number; details: string };
  }
}

export function subscribe(
  client: MyServiceAPIClient,
  session: Partial<Session>,
  timeoutMs?: number,
): StreamRecorder<EchoResponse__Output> {
  const options = timeoutMs === undefined ? {} : deadline(timeoutMs);
  return new StreamRecorder(
    client.MyServiceSubscribe({ value: 'reliability' }, sessionMetadata(session), options),
  );
}

const identity = (bytes: Buffer) => bytes;

export function probeUnary(
  client: Client,
  session: Partial<Session>,
  request: ProbeRequest,
  timeoutMs = 5_000,
): Promise<Outcome<ProbeReply>> {
  const started = performance.now();
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      PROBE_METHODS.unary,
      identity,
      identity,
      encodeProbe(request),
      sessionMetadata(session),
      deadline(timeoutMs),
      (error: ServiceError | null, bytes?: Buffer) =>
        settle<ProbeReply>(started, resolve)(
          error,
          bytes === undefined ? undefined : decodeProbe<ProbeReply>(bytes),
        ),
    ),
  );
}

/** An open client-streaming Collect: write `{seq}` messages, then `finish()` for the one reply. */
export interface CollectCall {
  readonly call: ClientWritableStream<Buffer>;
  readonly result: Promise<Outcome<ProbeReply>>;
  send(seq: number): boolean;
  finish(): Promise<Outcome<ProbeReply>>;
}

export function probeCollect(client: Client, session: Partial<Session>, timeoutMs = 10_000): CollectCall {
  const started = performance.now();
  let call: ClientWritableStream<Buffer> | undefined;
  const result = new Promise<Outcome<ProbeReply>>((resolve) => {
    call = client.makeClientStreamRequest(
      PROBE_METHODS.collect,
      identity,
      identity,
      sessionMetadata(session),
      deadline(timeoutMs),
      (error: ServiceError | null, bytes?: Buffer) =>
        settle<ProbeReply>(started, resolve)(
          error,
          bytes === undefined ? undefined : decodeProbe<ProbeReply>(bytes),
        ),
    );
  });
  const stream = call as unknown as ClientWritableStream<Buffer>;
  return {
    call: stream,
    result,
    send: (seq) => stream.write(encodeProbe({ seq })),
    finish: () => {
      stream.end();
      return result;
    },
  };
}

/** An open bidi Chat; replies are decoded into `recorder.messages`. */
export interface ChatCall {
  readonly call: ClientDuplexStream<Buffer, Buffer>;
  readonly recorder: StreamRecorder<ProbeReply>;
  send(seq: number, reply?: boolean): boolean;
}

export function probeChat(client: Client, session: Partial<Session>, timeoutMs?: number): ChatCall {
  const call = client.makeBidiStreamRequest(
    PROBE_METHODS.chat,
    identity,
    (bytes: Buffer) => decodeProbe<ProbeReply>(bytes) as unknown as Buffer,
    sessionMetadata(session),
    timeoutMs === undefined ? {} : deadline(timeoutMs),
  );
  const recorder = new StreamRecorder<ProbeReply>(call as unknown as ClientDuplexStream<Buffer, ProbeReply>);
  return {
    call,
    recorder,
    send: (seq, reply = true) => call.write(encodeProbe({ seq, reply })),
  };
}

/** A Flood server stream; the caller decides whether and how fast to read (`call.pause()`). */
export function probeFlood(
  client: Client,
  session: Partial<Session>,
  request: ProbeRequest,
  timeoutMs?: number,
): ClientReadableStream<Buffer> {
  return client.makeServerStreamRequest(
    PROBE_METHODS.flood,
    identity,
    identity,
    encodeProbe(request),
    sessionMetadata(session),
    timeoutMs === undefined ? {} : deadline(timeoutMs),
  );
}

/** The counters of the probe listening at `address`, asked directly (not through the gateway). */
export async function probeStats(address: string): Promise<ProbeStats> {
  const client = rawClient(address);
  try {
    return await new Promise<ProbeStats>((resolve, reject) =>
      client.makeUnaryRequest(
        PROBE_METHODS.stats,
        identity,
        identity,
        Buffer.alloc(0),
        new Metadata(),
        deadline(2_000),
        (error: ServiceError | null, bytes?: Buffer) =>
          error !== null || bytes === undefined ? reject(error) : resolve(decodeProbe<ProbeStats>(bytes)),
      ),
    );
  } finally {
    client.close();
  }
}
