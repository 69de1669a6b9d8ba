import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { CallContext, HeaderFilter } from './filters/filter.js';
import type { GatewayErrorReason } from './grpc/errors.js';
import { headerListSize, isGrpcContentType, MAX_REQUEST_HEADER_BYTES } from './grpc/headers.js';
import { endWithHttpError, endWithStatus } from './grpc/respond.js';
import { GatewayMessage, Status, type StatusCode } from './grpc/status.js';
import { type ProxySettings, type ProxyTarget, StreamProxy } from './proxy/stream-proxy.js';
import type { Route, RouteTable } from './routing/route-table.js';

/** Everything a route's calls need, built once per route by `createGateway`. */
export interface RouteRuntime {
  readonly target: ProxyTarget;
  /** Header filters in chain order (JWT auth first on `authorization: required` routes). */
  readonly filters: readonly HeaderFilter[];
}

/**
 * The life of one call, top to bottom (REFERENCE.md 6.3; docs/data-path.md): check it is gRPC,
 * route it on `:path`, run the route's header filters, then hand it to a `StreamProxy` that picks an
 * endpoint, opens the upstream stream and relays until the end. Every early answer goes through the
 * one responder.
 */
export class Pipeline {
  constructor(
    private readonly routes: RouteTable,
    /** Runtime of each configured route, by prefix. */
    private readonly runtimes: ReadonlyMap<string, RouteRuntime>,
    /** Runtime of the default `use_cluster` route, if configured. */
    private readonly defaultRuntime: RouteRuntime | undefined,
    private readonly settings: ProxySettings,
  ) {}

  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    if (headers[':method'] !== 'POST') {
      endWithHttpError(stream, 405, 'this endpoint serves gRPC: only POST requests are accepted');
      this.drain(stream);
      return;
    }
    if (!isGrpcContentType(headers['content-type'])) {
      endWithHttpError(stream, 415, 'this endpoint serves gRPC: content-type must be application/grpc');
      this.drain(stream);
      return;
    }
    const path = headers[':path'] ?? '';
    const headerBytes = headerListSize(headers);
    if (headerBytes > MAX_REQUEST_HEADER_BYTES) {
      // Refused before routing: forwarded, they would fail at the upstream and look like its failure.
      this.reject(
        stream,
        path,
        Status.RESOURCE_EXHAUSTED,
        `request headers of ${headerBytes} bytes exceed the limit of ${MAX_REQUEST_HEADER_BYTES} bytes`,
        'headers_too_large',
        undefined,
      );
      return;
    }
    const route = this.routes.match(path);
    const runtime = route === undefined ? undefined : this.runtimeOf(route);
    if (runtime === undefined) {
      this.reject(stream, path, Status.UNIMPLEMENTED, GatewayMessage.methodNotRouted, 'no_route', undefined);
      return;
    }
    const filters = runtime.filters;
    if (filters.length > 0) {
      const context: CallContext = { path, route: runtime.target.route };
      for (const filter of filters) {
        const decision = filter.apply(headers, context);
        if (decision.action === 'reject') {
          this.reject(
            stream,
            path,
            decision.code,
            decision.message,
            'filter_rejected',
            runtime.target.cluster.id,
          );
          return;
        }
      }
    }
    new StreamProxy(stream, headers, path, runtime.target, this.settings).start();
  }

  private runtimeOf(route: Route): RouteRuntime | undefined {
    return route.isDefault ? this.defaultRuntime : this.runtimes.get(route.prefix);
  }

  private reject(
    stream: ServerHttp2Stream,
    path: string,
    code: StatusCode,
    message: string,
    reason: GatewayErrorReason,
    cluster: string | undefined,
  ): void {
    endWithStatus(stream, code, message);
    this.drain(stream);
    this.settings.accessLog?.record({
      method: path,
      grpcStatus: code,
      durationMs: 0,
      cluster,
      endpoint: undefined,
      attempts: 0,
      transfers: 0,
      reason,
    });
  }

  /** Reads and drops whatever the client still sends after its answer went out. */
  private drain(stream: ServerHttp2Stream): void {
    stream.on('error', ignoreError);
    stream.resume();
  }
}

function ignoreError(): void {}
