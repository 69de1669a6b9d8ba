import type { CallContext, HeaderFilter } from './filters/header-filter.js';
import type { GatewayErrorReason } from './grpc/gateway-error.js';
import { isGrpcContentType, MAX_REQUEST_HEADER_BYTES } from './grpc/headers.js';
import { RequestHeaders } from './grpc/request-headers.js';
import { endWithHttpError, endWithStatus } from './grpc/respond.js';
import { GatewayMessage, Status, type StatusCode } from './grpc/status.js';
import type { HeaderFields, Http2Stream } from './h2/stream.js';
import type { GatewayMetrics } from './observability/metrics.js';
import { ProxyCall, type ProxySettings, type ProxyTarget } from './proxy/proxy-call.js';
import type { Route, RouteTable } from './routing/route-table.js';

/** Everything a route's calls need, built once per route by `createGateway`. */
export interface RouteRuntime {
  readonly target: ProxyTarget;
  /** Header filters in chain order (JWT auth first on `authorization: required` routes). */
  readonly filters: readonly HeaderFilter[];
}

/**
 * The life of one call, top to bottom (REFERENCE.md 6.3; docs/data-path.md): check it is gRPC,
 * route it on `:path`, run the route's header filters, then hand it to a `ProxyCall` that picks an
 * endpoint, opens the upstream stream and relays until the end. Every early answer goes through the
 * one responder; whatever the client still sends after it is dropped by the HTTP/2 layer (a stream
 * without a handler has its DATA credited back at once).
 */
export class Pipeline {
  constructor(
    private readonly routes: RouteTable,
    /** Runtime of each configured route, by prefix. */
    private readonly runtimes: ReadonlyMap<string, RouteRuntime>,
    /** Runtime of the default `use_cluster` route, if configured. */
    private readonly defaultRuntime: RouteRuntime | undefined,
    private readonly settings: ProxySettings,
    /** Undefined when metrics are off. */
    private readonly metrics: GatewayMetrics | undefined = undefined,
  ) {}

  handleStream(stream: Http2Stream, fields: HeaderFields, endStream: boolean): void {
    let method: string | undefined;
    let path = '';
    let contentType: string | undefined;
    for (let i = 0; i < fields.length; i += 2) {
      const name = fields[i] as string;
      if (name === ':method') method = fields[i + 1];
      else if (name === ':path') path = fields[i + 1] as string;
      else if (name === 'content-type') contentType ??= fields[i + 1];
    }
    if (method !== 'POST') {
      endWithHttpError(
        stream,
        405,
        'this endpoint serves gRPC: only POST requests are accepted',
        method === 'HEAD',
      );
      return;
    }
    if (!isGrpcContentType(contentType)) {
      endWithHttpError(stream, 415, 'this endpoint serves gRPC: content-type must be application/grpc');
      return;
    }
    const route = this.routes.match(path);
    const runtime = route === undefined ? undefined : this.runtimeOf(route);
    if (runtime === undefined) {
      this.reject(stream, path, Status.UNIMPLEMENTED, GatewayMessage.methodNotRouted, 'no_route', undefined);
      this.countRejected(undefined, Status.UNIMPLEMENTED);
      return;
    }
    const calls = this.metrics?.method(path);
    const filters = runtime.filters;
    let headers: RequestHeaders | undefined;
    if (filters.length > 0) {
      const context: CallContext = { path, route: runtime.target.route };
      headers = new RequestHeaders(fields);
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
          this.countRejected(path, decision.code);
          return;
        }
      }
    }
    new ProxyCall(stream, fields, path, runtime.target, this.settings, endStream, headers, calls).start();
  }

  /** A call answered before the proxy: started and handled at once; `undefined` path = unrouted. */
  private countRejected(path: string | undefined, code: StatusCode): void {
    const calls = this.metrics?.method(path);
    if (calls === undefined) return;
    calls.started();
    calls.handled(code, 0, 0, 0);
  }

  /**
   * A request whose header list is over the limit the gateway announces: refused before routing
   * (forwarded, it would fail at the upstream and look like that instance's failure).
   */
  headersTooLarge(stream: Http2Stream, headerListSize: number): void {
    this.reject(
      stream,
      '',
      Status.RESOURCE_EXHAUSTED,
      `request headers of ${headerListSize} bytes exceed the limit of ${MAX_REQUEST_HEADER_BYTES} bytes`,
      'headers_too_large',
      undefined,
    );
    this.countRejected(undefined, Status.RESOURCE_EXHAUSTED);
  }

  private runtimeOf(route: Route): RouteRuntime | undefined {
    return route.isDefault ? this.defaultRuntime : this.runtimes.get(route.prefix);
  }

  private reject(
    stream: Http2Stream,
    path: string,
    code: StatusCode,
    message: string,
    reason: GatewayErrorReason,
    cluster: string | undefined,
  ): void {
    endWithStatus(stream, code, message);
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
}
