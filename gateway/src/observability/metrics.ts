import { collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';

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

type MethodLabels = { readonly grpc_service: string; readonly grpc_method: string };
type Labels = Readonly<Record<string, string | number>>;

/** One exposition line's worth, in the shape prom-client's registry and cluster aggregator read. */
interface ScrapedValue {
  readonly labels: Labels;
  readonly value: number;
  readonly metricName?: string;
}

/**
 * A metric whose values are read when scraped. The series the data path feeds (every call) are
 * plain numbers in {@link MethodSeries} and {@link UpstreamSeries}: prom-client's own `inc` and
 * `observe` hash the label set on every call, which cost the gateway a third more CPU per call
 * (bench `gateway-metrics` against `gateway`). prom-client's registry asks each metric for `get()`,
 * for the text exposition and for the worker aggregation of GATEWAY_WORKERS alike.
 */
class ScrapedMetric {
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly read: () => ScrapedValue[],
  ) {}

  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: ScrapedValue[];
  }> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: this.read(),
    };
  }

  registerIn(registry: Registry): void {
    // The registry reads a metric only through `get()` (and `name`); its type names prom-client's
    // own classes, which count on the call path.
    registry.registerMetric(this as unknown as Metric);
  }
}

/** The counts of one gRPC method (labels resolved once per path): recording a call only adds. */
class MethodSeries implements MethodMetrics {
  startedCount = 0;
  /** Calls ended, by gRPC code. */
  readonly handledByCode: number[] = new Array<number>(STATUS_CODES).fill(0);
  /** Calls per handling-time bucket, each counted once (the exposition makes them cumulative). */
  readonly buckets: number[] = new Array<number>(HANDLING_BUCKETS.length + 1).fill(0);
  handledCount = 0;
  secondsSum = 0;
  received = 0;
  sent = 0;

  constructor(readonly labels: MethodLabels) {}

  started(): void {
    this.startedCount++;
  }

  handled(code: number, seconds: number, received: number, sent: number): void {
    const index = code >= 0 && code < STATUS_CODES ? code : 1;
    (this.handledByCode[index] as number)++;
    let bucket = 0;
    while (bucket < HANDLING_BUCKETS.length && seconds > (HANDLING_BUCKETS[bucket] as number)) bucket++;
    (this.buckets[bucket] as number)++;
    this.handledCount++;
    this.secondsSum += seconds;
    this.received += received;
    this.sent += sent;
  }
}

/** The upstream counts of one cluster. */
class UpstreamSeries implements UpstreamMetrics {
  requests = 0;
  retries = 0;
  connectFailures = 0;
  transferred = 0;
  notTransferable = 0;

  constructor(readonly cluster: string) {}

  request(): void {
    this.requests++;
  }

  retry(): void {
    this.retries++;
  }

  connectFailure(): void {
    this.connectFailures++;
  }

  transfer(outcome: TransferOutcome): void {
    if (outcome === 'transferred') this.transferred++;
    else this.notTransferable++;
  }
}

/** The values of `read` for every series where it is above zero (a series shows once used). */
function counted<T>(
  series: Iterable<T>,
  labels: (item: T) => Labels,
  read: (item: T) => number,
): ScrapedValue[] {
  const values: ScrapedValue[] = [];
  for (const item of series) {
    const value = read(item);
    if (value > 0) values.push({ labels: labels(item), value });
  }
  return values;
}

/** Prometheus histogram lines: cumulative `_bucket` per bound and `+Inf`, then `_sum` and `_count`. */
function histogramValues(name: string, series: Iterable<MethodSeries>): ScrapedValue[] {
  const values: ScrapedValue[] = [];
  for (const method of series) {
    if (method.handledCount === 0) continue;
    let cumulative = 0;
    for (const [i, bound] of HANDLING_BUCKETS.entries()) {
      cumulative += method.buckets[i] as number;
      values.push({
        labels: { ...method.labels, le: bound },
        value: cumulative,
        metricName: `${name}_bucket`,
      });
    }
    values.push(
      { labels: { ...method.labels, le: '+Inf' }, value: method.handledCount, metricName: `${name}_bucket` },
      { labels: method.labels, value: method.secondsSum, metricName: `${name}_sum` },
      { labels: method.labels, value: method.handledCount, metricName: `${name}_count` },
    );
  }
  return values;
}

/**
 * The gateway's Prometheus metrics (README "Admin listener and metrics"): the server side in the
 * go-grpc-prometheus names, the upstream side per cluster, gauges read from the gateway when scraped,
 * and prom-client's process metrics. One registry per gateway.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  /** Keyed by request path; `''` is the unrouted series. */
  private readonly methods = new Map<string, MethodSeries>();
  /** Distinct series, the overflow one included once. */
  private readonly methodSeries: MethodSeries[] = [];
  private other: MethodSeries | undefined;
  private readonly clusters = new Map<string, UpstreamSeries>();
  private source: GaugeSource | undefined;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const methods = this.methodSeries;
    const byMethod = (method: MethodSeries): Labels => method.labels;
    const scraped = [
      new ScrapedMetric(
        'grpc_server_started_total',
        'Total number of RPCs started on the server.',
        'counter',
        () => counted(methods, byMethod, (method) => method.startedCount),
      ),
      new ScrapedMetric(
        'grpc_server_handled_total',
        'Total number of RPCs completed on the server, regardless of success or failure.',
        'counter',
        () =>
          methods.flatMap((method) =>
            counted(
              GRPC_CODE_NAMES.keys(),
              (code) => ({ ...method.labels, grpc_code: GRPC_CODE_NAMES[code] as string }),
              (code) => method.handledByCode[code] as number,
            ),
          ),
      ),
      new ScrapedMetric(
        'grpc_server_handling_seconds',
        'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
        'histogram',
        () => histogramValues('grpc_server_handling_seconds', methods),
      ),
      new ScrapedMetric(
        'grpc_server_msg_received_total',
        'Total number of RPC stream messages received on the server.',
        'counter',
        () => counted(methods, byMethod, (method) => method.received),
      ),
      new ScrapedMetric(
        'grpc_server_msg_sent_total',
        'Total number of gRPC stream messages sent by the server.',
        'counter',
        () => counted(methods, byMethod, (method) => method.sent),
      ),
      ...this.upstreamMetrics(),
    ];
    for (const metric of scraped) metric.registerIn(this.registry);
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
    let series = this.methods.get(key);
    if (series === undefined) {
      const slash = path?.lastIndexOf('/') ?? -1;
      if (path === undefined) series = this.newMethodSeries(UNROUTED, UNROUTED);
      // Beyond the bound, and paths without a service part, share one series.
      else if (this.methods.size >= MAX_METHOD_SERIES || slash <= 0) return this.otherSeries();
      else series = this.newMethodSeries(path.slice(1, slash), path.slice(slash + 1));
      this.methods.set(key, series);
    }
    return series;
  }

  private otherSeries(): MethodSeries {
    this.other ??= this.newMethodSeries(OTHER, OTHER);
    return this.other;
  }

  upstream(cluster: string): UpstreamMetrics {
    let series = this.clusters.get(cluster);
    if (series === undefined) {
      series = new UpstreamSeries(cluster);
      this.clusters.set(cluster, series);
    }
    return series;
  }

  private newMethodSeries(service: string, name: string): MethodSeries {
    const series = new MethodSeries({ grpc_service: service, grpc_method: name });
    this.methodSeries.push(series);
    return series;
  }

  private upstreamMetrics(): ScrapedMetric[] {
    const clusters = () => this.clusters.values();
    const byCluster = (series: UpstreamSeries): Labels => ({ cluster: series.cluster });
    return [
      new ScrapedMetric(
        'gateway_upstream_requests_total',
        'Upstream streams opened, per cluster.',
        'counter',
        () => counted(clusters(), byCluster, (series) => series.requests),
      ),
      new ScrapedMetric(
        'gateway_upstream_retries_total',
        'Attempts to open an upstream stream after a failed one, per cluster.',
        'counter',
        () => counted(clusters(), byCluster, (series) => series.retries),
      ),
      new ScrapedMetric(
        'gateway_upstream_connect_failures_total',
        'Upstream connections that could not be established, per cluster.',
        'counter',
        () => counted(clusters(), byCluster, (series) => series.connectFailures),
      ),
      new ScrapedMetric(
        'gateway_session_transfers_total',
        'Calls whose instance failed mid-call: moved to another instance, or ended as not transferable.',
        'counter',
        () => [
          ...counted(
            clusters(),
            (series) => ({ cluster: series.cluster, outcome: 'transferred' }),
            (series) => series.transferred,
          ),
          ...counted(
            clusters(),
            (series) => ({ cluster: series.cluster, outcome: 'not_transferable' }),
            (series) => series.notTransferable,
          ),
        ],
      ),
    ];
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
