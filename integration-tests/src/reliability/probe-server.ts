import {
  type Metadata,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import { shutdownGracefully } from '@stickygw/servicekit';
import {
  decodeProbe,
  encodeProbe,
  type ProbeReply,
  type ProbeRequest,
  probeServiceDefinition,
} from './probe-service.js';

/** Largest message either side may send (the flood and oversize cases use big messages). */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface StartedProbeServer {
  readonly port: number;
  /** Graceful stop; cancels whatever still runs after `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

function failure(code: status, details: string): Partial<ServiceError> {
  return { code, details };
}

function parse(bytes: Buffer): ProbeRequest | undefined {
  try {
    const value = decodeProbe<ProbeRequest>(bytes);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The probe service of one process (see probe-service.ts). The session binding is checked and set in
 * one synchronous step, so two concurrent first calls can never both bind.
 */
export async function startProbeServer(
  instanceId: string,
  host: string,
  port: number,
): Promise<StartedProbeServer> {
  let boundSession: string | undefined;
  const stats = { floodWritten: 0, floodCancelled: 0, collectReceived: 0 };

  /** The caller's session, after binding; a failure status when it conflicts or is missing. */
  const bind = (metadata: Metadata): string | Partial<ServiceError> => {
    const value = metadata.get('session-id')[0];
    const session = typeof value === 'string' ? value : '';
    if (session.trim() === '') return failure(status.INVALID_ARGUMENT, 'session-id header is required');
    boundSession ??= session;
    if (boundSession !== session) {
      return failure(status.INTERNAL, `Session conflict: was=${boundSession}, now=${session}`);
    }
    return session;
  };

  const reply = (session: string, kind: ProbeReply['kind'], seq: number, extra: Partial<ProbeReply> = {}) =>
    encodeProbe({ pod: instanceId, session, kind, seq, ...extra });

  const server = new Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });
  server.addService(probeServiceDefinition, {
    Unary: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      const session = bind(call.metadata);
      if (typeof session !== 'string') return callback(session);
      const request = parse(call.request);
      if (request === undefined) return callback(failure(status.INVALID_ARGUMENT, 'request is not JSON'));
      if (request.hold === true) return; // answered never; the client's deadline or a kill ends it
      const timer = setTimeout(
        () => callback(null, reply(session, 'unary', request.seq ?? 0)),
        request.delayMs ?? 0,
      );
      call.on('cancelled', () => clearTimeout(timer));
    },

    Collect: (call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      const session = bind(call.metadata);
      if (typeof session !== 'string') {
        call.resume();
        return callback(session);
      }
      const seqs: number[] = [];
      call.on('data', (bytes: Buffer) => {
        stats.collectReceived++;
        seqs.push(parse(bytes)?.seq ?? -1);
      });
      call.on('end', () => callback(null, reply(session, 'collect', seqs.length, { seqs })));
    },

    Chat: (call: ServerDuplexStream<Buffer, Buffer>) => {
      const session = bind(call.metadata);
      if (typeof session !== 'string') {
        call.resume();
        call.emit('error', session);
        return;
      }
      const seqs: number[] = [];
      call.on('data', (bytes: Buffer) => {
        const request = parse(bytes);
        seqs.push(request?.seq ?? -1);
        if (request?.reply !== false)
          call.write(reply(session, 'chat', request?.seq ?? -1, { seqs: [...seqs] }));
      });
      call.on('end', () => call.end());
    },

    Flood: (call: ServerWritableStream<Buffer, Buffer>) => {
      const session = bind(call.metadata);
      if (typeof session !== 'string') {
        call.emit('error', session);
        return;
      }
      const request = parse(call.request) ?? {};
      const count = request.count ?? 0;
      const padding = 'x'.repeat(Math.max(0, request.bytes ?? 0));
      let seq = 0;
      let cancelled = false;
      call.on('cancelled', () => {
        cancelled = true;
        stats.floodCancelled++;
      });
      // Writes as fast as the transport takes them and no faster: a slow reader stalls this loop
      // through grpc-js flow control, which is what the gateway must propagate.
      const pump = () => {
        while (!cancelled && (count === 0 || seq < count)) {
          const more = call.write(reply(session, 'flood', seq++, { padding }));
          stats.floodWritten++;
          if (!more) {
            call.once('drain', pump);
            return;
          }
        }
        if (!cancelled) call.end();
      };
      pump();
    },

    Stats: (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      callback(null, Buffer.from(JSON.stringify(stats)));
    },
  });

  const boundPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    );
  });

  return {
    port: boundPort,
    stop: (graceMs) => shutdownGracefully(server, graceMs),
  };
}
