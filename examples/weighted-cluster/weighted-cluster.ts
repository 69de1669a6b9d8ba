import {
  type Cluster,
  type ClusterConfig,
  type ClusterContext,
  type ClusterFactory,
  type ClusterSnapshot,
  ConfigError,
  type Endpoint,
  type EndpointsRemovedListener,
  type GatewayError,
  snapshotOf,
  Type,
  type UpstreamConnection,
} from '@stickygw/gateway';

/** The YAML fields of a `type: weighted` cluster besides `type` (checked by the gateway's loader). */
export const WeightedClusterFields = Type.Object({
  /** The clusters calls are split between (ids of other clusters of the file), with integer weights. */
  split: Type.Array(
    Type.Object({
      cluster: Type.String({ minLength: 1 }),
      weight: Type.Integer({ minimum: 0, maximum: 1000 }),
    }),
    { minItems: 1 },
  ),
});

interface WeightedSplit {
  readonly cluster: string;
  readonly weight: number;
}

/** Above this many slots a snapshot repeats its schedule fewer times (a bound on memory, not on accuracy). */
const MAX_SLOTS = 10_000;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Smooth weighted round robin (nginx's): the order of member indexes over one cycle of `weights`,
 * interleaved (5:1 gives a a b a a a, not a a a a a b).
 */
function schedule(weights: readonly number[]): number[] {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const current = weights.map(() => 0);
  const order: number[] = [];
  for (let slot = 0; slot < total; slot++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] = (current[i] as number) + (weights[i] as number);
      if ((current[i] as number) > (current[best] as number)) best = i;
    }
    current[best] = (current[best] as number) - total;
    order.push(best);
  }
  return order;
}

/**
 * `type: weighted`: splits calls between other clusters by weight (a canary, a migration). Its
 * snapshot lists the members' endpoints in a weighted schedule, so the route's round robin over it
 * gives each member exactly its share of calls, and each member's endpoints their equal part of
 * it. A member without endpoints gives its share to the others. Connections, failures and removals
 * are the owning member's, which the gateway also starts and closes: this cluster owns nothing.
 *
 * Failover (retries, transfer) when every member has it (all `dynamic`); with a static member a
 * transport failure ends the call, as on a static cluster. Meant for `round_robin` routes: a sticky
 * route keeps a session on the member it first landed on.
 */
class WeightedCluster implements Cluster {
  readonly id: string;
  #members: readonly Cluster[] = [];
  #seen: readonly ClusterSnapshot[] = [];
  #current: ClusterSnapshot = snapshotOf([]);
  #owners = new Map<Endpoint, Cluster>();
  readonly #listeners: EndpointsRemovedListener[] = [];

  constructor(
    config: ClusterConfig,
    private readonly split: readonly WeightedSplit[],
    private readonly context: ClusterContext,
  ) {
    this.id = config.id;
  }

  get failover(): boolean {
    return this.#members.length > 0 && this.#members.every((member) => member.failover);
  }

  /** Rebuilt only when a member published a new snapshot (members never mutate a published one). */
  get snapshot(): ClusterSnapshot {
    const members = this.#members;
    for (let i = 0; i < members.length; i++) {
      if ((members[i] as Cluster).snapshot !== this.#seen[i]) {
        this.#rebuild();
        break;
      }
    }
    return this.#current;
  }

  connection(endpoint: Endpoint): UpstreamConnection {
    return this.#ownerOf(endpoint).connection(endpoint);
  }

  reportFailure(endpoint: Endpoint, error: GatewayError): void {
    this.#ownerOrUndefined(endpoint)?.reportFailure(endpoint, error);
  }

  onEndpointsRemoved(listener: EndpointsRemovedListener): void {
    this.#listeners.push(listener);
  }

  /** Members are looked up here: every cluster exists once the gateway starts them. */
  start(): Promise<void> {
    this.#members = this.split.map(({ cluster }) => {
      const member = this.context.cluster(cluster);
      if (member === undefined) throw new Error(`cluster ${this.id}: unknown cluster ${cluster}`);
      member.onEndpointsRemoved((ids, cause) => {
        for (const listener of this.#listeners) listener(ids, cause);
      });
      return member;
    });
    this.#rebuild();
    return Promise.resolve();
  }

  close(): void {}

  /** The members count their own connections. */
  readonly connectionsCreated = 0;

  /**
   * By identity first; a call may still hold an endpoint of a member's previous snapshot (its
   * transfer reports the failure after a refresh), found by id and address then.
   */
  #ownerOrUndefined(endpoint: Endpoint): Cluster | undefined {
    return (
      this.#owners.get(endpoint) ??
      this.#members.find((member) => member.snapshot.byId.get(endpoint.id)?.authority === endpoint.authority)
    );
  }

  #ownerOf(endpoint: Endpoint): Cluster {
    const owner = this.#ownerOrUndefined(endpoint);
    if (owner === undefined) throw new Error(`cluster ${this.id}: endpoint ${endpoint.id} is not a member's`);
    return owner;
  }

  #rebuild(): void {
    const snapshots = this.#members.map((member) => member.snapshot);
    const live = snapshots
      .map((snapshot, i) => (snapshot.endpoints.length > 0 ? i : -1))
      .filter((i) => i >= 0);
    const weights = live.map((i) => (this.split[i] as WeightedSplit).weight);
    const divisor = weights.reduce(gcd, 0) || 1;
    const order = schedule(weights.map((weight) => weight / divisor));
    // Repeat the cycle so each member's slots cover its endpoints evenly (lcm of their counts).
    const counts = live.map((i) => (snapshots[i] as ClusterSnapshot).endpoints.length);
    const lcm = counts.reduce((a, b) => (a * b) / gcd(a, b), 1);
    const cycles = Math.max(1, order.length * lcm <= MAX_SLOTS ? lcm : Math.max(...counts, 1));
    const next = live.map(() => 0);
    const owners = new Map<Endpoint, Cluster>();
    const endpoints: Endpoint[] = [];
    for (let cycle = 0; cycle < cycles; cycle++) {
      for (const slot of order) {
        const memberEndpoints = (snapshots[live[slot] as number] as ClusterSnapshot).endpoints;
        const endpoint = memberEndpoints[(next[slot] as number) % memberEndpoints.length] as Endpoint;
        next[slot] = (next[slot] as number) + 1;
        endpoints.push(endpoint);
        owners.set(endpoint, this.#members[live[slot] as number] as Cluster);
      }
    }
    const retained = snapshots.flatMap((snapshot) => [...snapshot.byId.values()]);
    for (const [i, snapshot] of snapshots.entries()) {
      for (const endpoint of snapshot.byId.values()) owners.set(endpoint, this.#members[i] as Cluster);
    }
    this.#owners = owners;
    this.#seen = snapshots;
    this.#current = snapshotOf(endpoints, retained);
  }
}

export const weightedClusterType: ClusterFactory = (config, context) => {
  if (config.type !== 'extension') throw new Error(`cluster ${config.id}: not a weighted cluster`);
  const { split } = config.settings as { split: WeightedSplit[] };
  return new WeightedCluster(config, split, context);
};

/**
 * Checks across clusters, before the gateway starts: each member must be another, non-weighted
 * cluster of the file, and some weight must be positive. Every problem at once, naming the field.
 */
export function checkWeightedClusters(clusters: readonly ClusterConfig[]): void {
  const types = new Map(clusters.map((cluster) => [cluster.id, cluster]));
  const problems: string[] = [];
  for (const cluster of clusters) {
    if (cluster.type !== 'extension' || cluster.extensionType !== 'weighted') continue;
    const { split } = cluster.settings as { split: WeightedSplit[] };
    split.forEach((member, i) => {
      const target = types.get(member.cluster);
      if (target === undefined) {
        problems.push(
          `cluster ${cluster.id}: split[${i}].cluster: no cluster ${JSON.stringify(member.cluster)}`,
        );
      } else if (target.type === 'extension' && target.extensionType === 'weighted') {
        problems.push(`cluster ${cluster.id}: split[${i}].cluster: ${member.cluster} is weighted itself`);
      }
    });
    if (split.every((member) => member.weight === 0)) {
      problems.push(`cluster ${cluster.id}: split: at least one weight must be positive`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
