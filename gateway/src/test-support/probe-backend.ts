import { fileURLToPath } from 'node:url';
import {
  type ChannelCredentials,
  type Client,
  credentials,
  loadPackageDefinition,
  Metadata,
  type MethodDefinition,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceClientConstructor,
  type ServiceDefinition,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { shutdownGracefully } from '@stickygw/servicekit';

export interface ProbeRequest {
  text?: string;
  payload?: Buffer;
  count?: number;
  interval_ms?: number;
  fail_code?: number;
  fail_message?: string;
  headers_first?: boolean;
  hold?: boolean;
  delay_ms?: number;
}

export interface ProbeReply {
  text: string;
  payload: Buffer;
  backend: string;
  index: number;
  received: number;
}

export const PROBE_PROTO_PATH = fileURLToPath(new URL('./probe.proto', import.meta.url));

const probePackage = loadPackageDefinition(
  loadSync(PROBE_PROTO_PATH, { keepCase: true, longs: Number, defaults: true }),
) as unknown as { probe: { v1: { Probe: ServiceClientConstructor } } };
const ProbeClientConstructor = probePackage.probe.v1.Probe;

/** Large limits so tests can move 8 MiB messages. */
export const BIG_MESSAGES = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};

/** The probe's method definitions (serializers), to call it under another `:path`. */
export const PROBE_UNARY = (ProbeClientConstructor.service as ServiceDefinition).Unary as MethodDefinition<
  ProbeRequest,
  ProbeReply
>;

export type ProbeClient = Client & Record<string, (...args: unknown[]) => unknown>;

/** A grpc-js client of the probe service at `address` (one channel, one HTTP/2 connection). */
export function probeClient(
  address: string,
  options: Record<string, unknown> = {},
  channelCredentials: ChannelCredentials = credentials.createInsecure(),
): ProbeClient {
  return new ProbeClientConstructor(address, channelCredentials, {
    // Each client gets its own connection (grpc-js otherwise shares subchannels between clients).
    'grpc.use_local_subchannel_pool': 1,
    ...options,
  }) as unknown as ProbeClient;
}

export interface RecordedCall {
  readonly method: string;
  readonly metadata: Metadata;
  /** The call's deadline as the backend saw it (ms since the epoch; Infinity when none). */
  readonly deadline: number;
}

/** Copies `x-echo-*` request metadata into a response metadata object (text and -bin values). */
function echoed(metadata: Metadata, name: string, prefix: string): Metadata {
  const out = new Metadata();
  out.set(`x-${prefix}-backend`, name);
  for (const [key, values] of Object.entries(metadata.getMap())) {
    if (!key.startsWith('x-echo-')) continue;
    const target = `x-${prefix}-${key.slice('x-echo-'.length)}`;
    out.set(target, values as string & Buffer);
  }
  return out;
}

function reply(
  name: string,
  text: string,
  index: number,
  received = 0,
  payload: Buffer = Buffer.alloc(0),
): ProbeReply {
  return { text, payload, backend: name, index, received };
}

/**
 * A real grpc-js server of the probe service on 127.0.0.1, port 0. It records every call's metadata
 * and every cancellation it sees, and can be killed (sessions destroyed at once) mid-call.
 */
export class ProbeBackend {
  readonly calls: RecordedCall[] = [];
  cancellations = 0;
  private readonly server = new Server(BIG_MESSAGES);
  private readonly timers = new Set<NodeJS.Timeout>();
  port = 0;

  private constructor(readonly name: string) {}

  /** `serverCredentials`: TLS for the upstream TLS tests (default plaintext h2c). */
  static async start(
    name: string,
    port = 0,
    serverCredentials: ServerCredentials = ServerCredentials.createInsecure(),
  ): Promise<ProbeBackend> {
    const backend = new ProbeBackend(name);
    backend.server.addService(ProbeClientConstructor.service as ServiceDefinition, backend.handlers());
    backend.port = await new Promise<number>((resolve, reject) =>
      backend.server.bindAsync(`127.0.0.1:${port}`, serverCredentials, (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    return backend;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Destroys every connection at once, as a crashed process would. */
  kill(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.forceShutdown();
  }

  stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    return shutdownGracefully(this.server, 500);
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private record(
    method: string,
    call: {
      metadata: Metadata;
      getDeadline(): Date | number;
      on(event: 'cancelled', fn: () => void): unknown;
    },
  ): void {
    const deadline = call.getDeadline();
    this.calls.push({
      method,
      metadata: call.metadata,
      deadline: deadline instanceof Date ? deadline.getTime() : deadline,
    });
    call.on('cancelled', () => {
      this.cancellations++;
    });
  }

  private handlers(): UntypedServiceImplementation {
    const name = this.name;
    return {
      Unary: (call: ServerUnaryCall<ProbeRequest, ProbeReply>, callback: sendUnaryData<ProbeReply>) => {
        this.record('Unary', call);
        const request = call.request;
        if (request.hold) return;
        const answer = (): void => {
          if (request.headers_first || !request.fail_code)
            call.sendMetadata(echoed(call.metadata, name, 'h'));
          const trailers = echoed(call.metadata, name, 't');
          if (request.fail_code) {
            callback({ code: request.fail_code, details: request.fail_message ?? '', metadata: trailers });
            return;
          }
          callback(null, reply(name, request.text ?? '', 0, 1, request.payload), trailers);
        };
        if (request.delay_ms) this.later(request.delay_ms, answer);
        else answer();
      },
      ClientStream: (
        call: ServerReadableStream<ProbeRequest, ProbeReply>,
        callback: sendUnaryData<ProbeReply>,
      ) => {
        this.record('ClientStream', call);
        let received = 0;
        let bytes = 0;
        const texts: string[] = [];
        call.on('data', (request: ProbeRequest) => {
          received++;
          bytes += request.payload?.length ?? 0;
          texts.push(request.text ?? '');
        });
        call.on('error', () => undefined);
        call.on('end', () => {
          call.sendMetadata(echoed(call.metadata, name, 'h'));
          callback(null, {
            ...reply(name, texts.join(','), 0, received),
            payload: Buffer.from(String(bytes)),
          });
        });
      },
      ServerStream: (call: ServerWritableStream<ProbeRequest, ProbeReply>) => {
        this.record('ServerStream', call);
        const request = call.request;
        call.sendMetadata(echoed(call.metadata, name, 'h'));
        const count = request.count ?? 0;
        let index = 0;
        const next = (): void => {
          if (call.cancelled) return;
          if (count > 0 && index >= count) {
            call.end(echoed(call.metadata, name, 't'));
            return;
          }
          call.write(reply(name, request.text ?? '', index++, 1));
          this.later(request.interval_ms ?? 0, next);
        };
        next();
      },
      Bidi: (call: ServerDuplexStream<ProbeRequest, ProbeReply>) => {
        this.record('Bidi', call);
        let index = 0;
        call.sendMetadata(echoed(call.metadata, name, 'h'));
        call.on('data', (request: ProbeRequest) => {
          if (request.hold) {
            index++;
            return;
          }
          if (request.fail_code) {
            call.emit('error', { code: request.fail_code, details: request.fail_message ?? '' });
            return;
          }
          index++;
          call.write(reply(name, request.text ?? '', index - 1, index, request.payload));
        });
        call.on('error', () => undefined);
        call.on('end', () => call.end(echoed(call.metadata, name, 't')));
      },
    };
  }
}
