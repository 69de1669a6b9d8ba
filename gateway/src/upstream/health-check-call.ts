import { fieldValue } from '../grpc/headers.js';
import {
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  HEALTH_CHECK_PATH,
  ServingStatus,
} from '../grpc/health-check-codec.js';
import type { HeaderFields, Http2Stream, StreamHandler } from '../h2/stream.js';
import type { UpstreamConnection } from './upstream-connection.js';

/** A `HealthCheckResponse` bigger than this is not one (the real one is 2 bytes plus the prefix). */
const MAX_RESPONSE_BYTES = 1024;

/**
 * The outcome of one check: healthy (SERVING), or why not. `answered` tells an instance that
 * answered (NOT_SERVING, SERVICE_UNKNOWN, a gRPC error such as UNIMPLEMENTED) from one that did not
 * (no answer in time, connect failed, stream reset): only the latter's connection is suspect.
 */
export type HealthCheckOutcome =
  | { readonly healthy: true }
  | { readonly healthy: false; readonly reason: string; readonly answered: boolean };

/**
 * One `grpc.health.v1.Health/Check` on `upstream`'s pooled connection (connecting if needed), the
 * whole check (connect included) bounded by `timeoutMs`. Never rejects. Runs beside proxied calls on
 * the same connection, so a frozen instance is seen where its calls would go.
 */
export function checkHealth(
  upstream: UpstreamConnection,
  service: string,
  timeoutMs: number,
): Promise<HealthCheckOutcome> {
  return new Promise((resolve) => {
    const check = new HealthCheckCall(upstream, service, timeoutMs, resolve);
    check.start();
  });
}

class HealthCheckCall implements StreamHandler {
  private settled = false;
  private stream: Http2Stream | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly body: Buffer[] = [];
  private bodyBytes = 0;
  private grpcStatus: string | undefined;

  constructor(
    private readonly upstream: UpstreamConnection,
    private readonly service: string,
    timeoutMs: number,
    private readonly resolve: (outcome: HealthCheckOutcome) => void,
  ) {
    this.timer = setTimeout(() => this.fail(`no answer within ${timeoutMs} ms`, false), timeoutMs);
    this.timer.unref();
  }

  start(): void {
    this.upstream.connect().then(
      (connection) => {
        if (this.settled) return;
        const fields: HeaderFields = [
          ':method',
          'POST',
          ':scheme',
          'http',
          ':path',
          HEALTH_CHECK_PATH,
          ':authority',
          this.upstream.authority,
          'content-type',
          'application/grpc',
          'te',
          'trailers',
        ];
        try {
          this.stream = this.upstream.request(connection, fields, false, this);
        } catch (err) {
          this.fail(err instanceof Error ? err.message : String(err), false);
          return;
        }
        this.stream.write(encodeHealthCheckRequest(this.service));
        this.stream.end();
      },
      (err: unknown) => this.fail(err instanceof Error ? err.message : String(err), false),
    );
  }

  onHeaders(_stream: Http2Stream, fields: HeaderFields, endStream: boolean): void {
    if (endStream) this.grpcStatus = fieldValue(fields, 'grpc-status');
  }

  onData(stream: Http2Stream, data: Buffer): void {
    stream.credit(data.length);
    this.bodyBytes += data.length;
    if (this.bodyBytes > MAX_RESPONSE_BYTES) {
      this.fail('oversized health check response', true);
      return;
    }
    this.body.push(Buffer.from(data));
  }

  onTrailers(_stream: Http2Stream, fields: HeaderFields): void {
    this.grpcStatus = fieldValue(fields, 'grpc-status');
  }

  onEnd(): void {}

  onWritten(): void {}

  onClose(_stream: Http2Stream, code: number): void {
    this.upstream.release();
    this.stream = undefined;
    if (this.grpcStatus === undefined) {
      this.fail(`health check stream closed without a status (code ${code})`, false);
      return;
    }
    if (this.grpcStatus !== '0') {
      this.fail(`health check answered grpc-status ${this.grpcStatus}`, true);
      return;
    }
    const status = decodeHealthCheckResponse(Buffer.concat(this.body));
    if (status === ServingStatus.SERVING) this.settle({ healthy: true });
    else
      this.fail(status === undefined ? 'malformed health check response' : `serving status ${status}`, true);
  }

  private fail(reason: string, answered: boolean): void {
    this.settle({ healthy: false, reason, answered });
  }

  private settle(outcome: HealthCheckOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    // A check that gave up leaves nothing behind on the shared connection.
    this.stream?.reset();
    this.resolve(outcome);
  }
}
