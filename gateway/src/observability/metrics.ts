import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** gRPC status codes 0-16: the handled counter's children are resolved once per method and code. */
const STATUS_CODES = 17;
/** Past this many distinct methods, further ones are counted as `grpc_method="other"` (bounded labels). */
const MAX_METHOD_SERIES = 1000;
/** The label of calls no route matches (a client-chosen path must not become a label). */
const UNROUTED = 'unrouted';
const OTHER = 'other';
/** go-grpc-prometheus' default buckets (seconds). */
const HANDLING_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The series of one gRPC method, resolved once: recording a call builds no string and looks up no label. */
export interface MethodMetrics {
  started(): void;
  /** The call ended with `code` (-1: no status reached the client, counted as CANCELLED). */
  handled(code: number, seconds: number, received: number, sent: number): void;
}

type TransferOutcome = 'transferred' | 'not_transferable';

/** The upstream series of one cluster (Envoy's vocabulary), resolved once per cluster. */
export interface UpstreamMetrics {
  request(): void;
  retry(): void;
  connectFailure(): void;
  transfer(outcome: TransferOutcome): void;
}

/** A cluster's instances by state, and its sticky bindings, read at scrape time. */
export interface ClusterGauges {
  readonly cluster: string;
  readonly free: number;
  readonly bound: number;
  readonly retained: number;
  readonly ejected: number;
  readonly draining: number;
  readonly sessionsBound: number;
}

/** What the gauges read when scraped; the gateway provides it, nothing is counted on the data path. */
export interface GaugeSource {
  clusters(): readonly ClusterGauges[];
  downstreamConnections(): number;
  activeStreams(): number;
}

/**
 * The gateway's Prometheus metrics (README "Admin listener and metrics"): the server side in the
 * go-grpc-prometheus names, the upstream side per cluster, gauges read from the gateway when scraped,
 * and prom-client's process metrics. One registry per gateway.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly startedTotal: Counter<'grpc_service' | 'grpc_method'>;
  private readonly handledTotal: Counter<'grpc_service' | 'grpc_method' | 'grpc_code'>;
  private readonly handlingSeconds: Histogram<'grpc_service' | 'grpc_method'>;
  private readonly msgReceived: Counter<'grpc_service' | 'grpc_method'>;
  private readonly msgSent: Counter<'grpc_service' | 'grpc_method'>;
  private readonly upstreamRequests: Counter<'cluster'>;
  private readonly upstreamRetries: Counter<'cluster'>;
  private readonly connectFailures: Counter<'cluster'>;
  private readonly transfers: Counter<'cluster' | 'outcome'>;
  private readonly methods = new Map<string, MethodMetrics>();
  private other: MethodMetrics | undefined;
  private source: GaugeSource | undefined;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const method = ['grpc_service', 'grpc_method'] as const;
    this.startedTotal = new Counter({
      name: 'grpc_server_started_total',
      help: 'Total number of RPCs started on the server.',
      labelNames: method,
      registers,
    });
    this.handledTotal = new Counter({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: [...method, 'grpc_code'],
      registers,
    });
    this.handlingSeconds = new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
      labelNames: method,
      buckets: HANDLING_BUCKETS,
      registers,
    });
    this.msgReceived = new Counter({
      name: 'grpc_server_msg_received_total',
      help: 'Total number of RPC stream messages received on the server.',
      labelNames: method,
      registers,
    });
    this.msgSent = new Counter({
      name: 'grpc_server_msg_sent_total',
      help: 'Total number of gRPC stream messages sent by the server.',
      labelNames: method,
      registers,
    });
    this.upstreamRequests = new Counter({
      name: 'gateway_upstream_requests_total',
      help: 'Upstream streams opened, per cluster.',
      labelNames: ['cluster'],
      registers,
    });
    this.upstreamRetries = new Counter({
      name: 'gateway_upstream_retries_total',
      help: 'Attempts to open an upstream stream after a failed one, per cluster.',
      labelNames: ['cluster'],
      registers,
    });
    this.connectFailures = new Counter({
      name: 'gateway_upstream_connect_failures_total',
      help: 'Upstream connections that could not be established, per cluster.',
      labelNames: ['cluster'],
      registers,
    });
    this.transfers = new Counter({
      name: 'gateway_session_transfers_total',
      help: 'Calls whose instance failed mid-call: moved to another instance, or ended as not transferable.',
      labelNames: ['cluster', 'outcome'],
      registers,
    });
    const read = (): GaugeSource | undefined => this.source;
    new Gauge({
      name: 'gateway_cluster_instances',
      help: 'Instances of each cluster by state (free, bound, retained, ejected, draining).',
      labelNames: ['cluster', 'state'],
      registers,
      // GATEWAY_WORKERS > 1: every worker sees the same membership; the primary shows the largest.
      aggregator: 'max',
      collect() {
        this.reset();
        for (const cluster of read()?.clusters() ?? []) {
          this.set({ cluster: cluster.cluster, state: 'free' }, cluster.free);
          this.set({ cluster: cluster.cluster, state: 'bound' }, cluster.bound);
          this.set({ cluster: cluster.cluster, state: 'retained' }, cluster.retained);
          this.set({ cluster: cluster.cluster, state: 'ejected' }, cluster.ejected);
          this.set({ cluster: cluster.cluster, state: 'draining' }, cluster.draining);
        }
      },
    });
    new Gauge({
      name: 'gateway_sessions_bound',
      help: 'Sticky sessions bound to an instance, per cluster.',
      labelNames: ['cluster'],
      registers,
      aggregator: 'max',
      collect() {
        this.reset();
        for (const cluster of read()?.clusters() ?? [])
          this.set({ cluster: cluster.cluster }, cluster.sessionsBound);
      },
    });
    new Gauge({
      name: 'gateway_downstream_connections',
      help: 'Open client HTTP/2 connections.',
      registers,
      collect() {
        this.set(read()?.downstreamConnections() ?? 0);
      },
    });
    new Gauge({
      name: 'gateway_active_streams',
      help: 'Open client streams (calls in flight).',
      registers,
      collect() {
        this.set(read()?.activeStreams() ?? 0);
      },
    });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Where the gauges read their values (the gateway, once built). */
  observe(source: GaugeSource): void {
    this.source = source;
  }

  /** The series of `path` (`/package.Service/Method`) on a route; `undefined` path = unrouted. */
  method(path: string | undefined): MethodMetrics {
    const key = path ?? '';
    let metrics = this.methods.get(key);
    if (metrics === undefined) {
      if (path === undefined) metrics = this.resolveMethod(UNROUTED, UNROUTED);
      else if (this.methods.size >= MAX_METHOD_SERIES) {
        this.other ??= this.resolveMethod(OTHER, OTHER);
        return this.other;
      } else {
        const slash = path.lastIndexOf('/');
        metrics =
          slash > 0
            ? this.resolveMethod(path.slice(1, slash), path.slice(slash + 1))
            : this.resolveMethod(OTHER, OTHER);
      }
      this.methods.set(key, metrics);
    }
    return metrics;
  }

  upstream(cluster: string): UpstreamMetrics {
    const labels = { cluster };
    const requests = this.upstreamRequests.labels(labels);
    const retries = this.upstreamRetries.labels(labels);
    const connectFailures = this.connectFailures.labels(labels);
    const transferred = this.transfers.labels({ cluster, outcome: 'transferred' });
    const notTransferable = this.transfers.labels({ cluster, outcome: 'not_transferable' });
    return {
      request: () => requests.inc(),
      retry: () => retries.inc(),
      connectFailure: () => connectFailures.inc(),
      transfer: (outcome) => (outcome === 'transferred' ? transferred : notTransferable).inc(),
    };
  }

  private resolveMethod(service: string, name: string): MethodMetrics {
    const labels = { grpc_service: service, grpc_method: name };
    const started = this.startedTotal.labels(labels);
    const seconds = this.handlingSeconds.labels(labels);
    const received = this.msgReceived.labels(labels);
    const sent = this.msgSent.labels(labels);
    // Resolved on first use, so a method shows only the codes it ended with.
    const handled: (ReturnType<typeof this.handledTotal.labels> | undefined)[] = new Array(STATUS_CODES);
    const handledTotal = this.handledTotal;
    return {
      started: () => started.inc(),
      handled: (code, elapsed, receivedCount, sentCount) => {
        const index = code >= 0 && code < STATUS_CODES ? code : 1;
        let child = handled[index];
        if (child === undefined) {
          child = handledTotal.labels({ ...labels, grpc_code: GRPC_CODE_NAMES[index] as string });
          handled[index] = child;
        }
        child.inc();
        seconds.observe(elapsed);
        if (receivedCount > 0) received.inc(receivedCount);
        if (sentCount > 0) sent.inc(sentCount);
      },
    };
  }
}

/** go-grpc-prometheus labels codes by name (codes.Code.String()). */
const GRPC_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];
