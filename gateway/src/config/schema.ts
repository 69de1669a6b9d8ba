import { isIP } from 'node:net';
import type { BalancerConfig, ClusterConfig, DefaultAction, GatewayConfig, RouteConfig } from './types.js';

/** The part of the gateway configuration that comes from the YAML file (REFERENCE.md 6.2). */
export type GatewayYamlConfig = Pick<GatewayConfig, 'default' | 'routes' | 'clusters'>;

/** Outcome of {@link validateGatewayDocument}: a config when `problems` is empty, never both. */
export interface GatewayYamlValidation {
  readonly config: GatewayYamlConfig | undefined;
  /** Type problems first (the reference fails those while unmarshalling), then steps 4-8 of 6.1. */
  readonly problems: readonly string[];
  /** At least one route has `authorization: required` (step 9 of 6.1 needs JWT_SECRET then). */
  readonly requiresJwt: boolean;
}

/**
 * Largest delay Node's timers honour: above it `setInterval` fires after 1 ms, so a huge
 * `discoverer_interval_ms` would hammer the discoverer instead of polling rarely.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Reads, normalises and validates the parsed YAML document (`yaml`'s `toJS({ mapAsMap: true })`,
 * so mappings are `Map`s in file order and `__proto__` is just a key).
 *
 * Hand-written rather than a zod schema on purpose: a field of the wrong type must not stop the
 * reference's own checks on the other fields, the reference's messages must come out byte for byte,
 * and the order must be the file order. Each reader reports a type problem with its path and what
 * was expected, and marks the field {@link INVALID} so later checks skip it instead of piling up
 * follow-on messages.
 *
 * Beyond the reference (REFERENCE.md 8.22 and friends), all documented in the messages' tests:
 * clusters are validated in file order, duplicate prefixes are rejected, a static `address` must be
 * `host:port`, `discoverer_url` must be an http(s) URL (trailing `/` stripped),
 * `discoverer_interval_ms` must fit a Node timer, and a sticky header must be a valid metadata key.
 */
export function validateGatewayDocument(document: unknown): GatewayYamlValidation {
  const reader = new ShapeReader();
  const raw = readDocument(reader, document);
  const problems = [...reader.problems, ...checkDocument(raw)];
  const requiresJwt = raw.routes.some((route) => route !== undefined && route.authorization === 'required');
  if (problems.length > 0) {
    return { config: undefined, problems, requiresJwt };
  }
  return { config: buildConfig(raw), problems, requiresJwt };
}

/** Marks a field whose YAML type was wrong (already reported); checks on it are skipped. */
const INVALID = Symbol('invalid');
type Field<T> = T | undefined | typeof INVALID;

interface RawRoute {
  /** Already normalised (6.2); absent is `''`. */
  readonly prefix: string | typeof INVALID;
  readonly cluster: Field<string>;
  /** Empty normalised to `none`. */
  readonly authorization: Field<string>;
  /** Empty normalised to `round_robin`. */
  readonly balancerType: Field<string>;
  /** Lower-cased: HTTP/2 header names are lower-case, so `Session-Id` could never match otherwise. */
  readonly balancerHeader: Field<string>;
}

interface RawCluster {
  readonly id: string;
  /** False when the cluster's value was not a mapping (reported); its fields are then all absent. */
  readonly readable: boolean;
  readonly type: Field<string>;
  readonly address: Field<string>;
  readonly discovererUrl: Field<string>;
  readonly discovererIntervalMs: Field<number>;
}

interface RawDocument {
  readonly action: Field<string>;
  readonly useCluster: Field<string>;
  /** `undefined` entries were not mappings (reported); kept so indices stay file indices. */
  readonly routes: readonly (RawRoute | undefined)[];
  /** `undefined` when `clusters` itself was not a mapping (reported): cross-references are then unknowable. */
  readonly clusters: readonly RawCluster[] | undefined;
}

function readDocument(reader: ShapeReader, document: unknown): RawDocument {
  // The root is known to be a mapping or empty (load-config.ts rejects anything else).
  const root =
    document instanceof Map ? (document as ReadonlyMap<string, unknown>) : new Map<string, unknown>();

  const defaults = reader.mapping(root.get('default'), 'default');
  const defaultsMap = defaults === INVALID ? undefined : defaults;
  const action = reader.string(defaultsMap?.get('action'), 'default.action');
  const useCluster = reader.string(defaultsMap?.get('use_cluster'), 'default.use_cluster');

  const routeList = reader.list(root.get('routes'), 'routes');
  const routes =
    routeList === INVALID || routeList === undefined
      ? []
      : routeList.map((item, i) => readRoute(reader, item, i));

  const clusterMap = reader.mapping(root.get('clusters'), 'clusters');
  let clusters: RawCluster[] | undefined;
  if (clusterMap !== INVALID) {
    clusters = [];
    for (const [id, value] of clusterMap ?? []) {
      clusters.push(readCluster(reader, id, value));
    }
  }
  return { action, useCluster, routes, clusters };
}

function readRoute(reader: ShapeReader, item: unknown, index: number): RawRoute | undefined {
  const path = `routes[${index}]`;
  const route = reader.mapping(item, path);
  if (route === INVALID) {
    return undefined;
  }
  const prefix = reader.string(route?.get('prefix'), `${path}.prefix`);
  const cluster = reader.string(route?.get('cluster'), `${path}.cluster`);
  const authorization = reader.string(route?.get('authorization'), `${path}.authorization`);
  const balancer = reader.mapping(route?.get('balancer'), `${path}.balancer`);
  const balancerMap = balancer === INVALID ? undefined : balancer;
  const balancerType = reader.string(balancerMap?.get('type'), `${path}.balancer.type`);
  const balancerHeader = reader.string(balancerMap?.get('header'), `${path}.balancer.header`);
  return {
    prefix: prefix === INVALID ? INVALID : normalisePrefix(prefix ?? ''),
    cluster,
    authorization: authorization === INVALID ? INVALID : authorization || 'none',
    balancerType:
      balancer === INVALID ? INVALID : balancerType === INVALID ? INVALID : balancerType || 'round_robin',
    balancerHeader: balancerHeader === INVALID ? INVALID : balancerHeader?.toLowerCase(),
  };
}

function readCluster(reader: ShapeReader, id: string, value: unknown): RawCluster {
  const path = clusterPath(id);
  const cluster = reader.mapping(value, path);
  const fields = cluster === INVALID ? undefined : cluster;
  return {
    id,
    readable: cluster !== INVALID,
    type: reader.string(fields?.get('type'), `${path}.type`),
    address: reader.string(fields?.get('address'), `${path}.address`),
    discovererUrl: reader.string(fields?.get('discoverer_url'), `${path}.discoverer_url`),
    discovererIntervalMs: reader.integer(
      fields?.get('discoverer_interval_ms'),
      `${path}.discoverer_interval_ms`,
    ),
  };
}

/** REFERENCE.md 6.2: trim, drop ONE trailing `*`, then make it start with `/` unless empty. */
function normalisePrefix(prefix: string): string {
  const trimmed = prefix.trim();
  const withoutStar = trimmed.endsWith('*') ? trimmed.slice(0, -1) : trimmed;
  return withoutStar === '' || withoutStar.startsWith('/') ? withoutStar : `/${withoutStar}`;
}

/** Steps 4-8 of REFERENCE.md 6.1, in that order, with the reference's exact messages. */
function checkDocument(raw: RawDocument): string[] {
  const problems: string[] = [];

  // Step 4. An absent or empty action means `error`.
  if (raw.action !== INVALID && raw.action && raw.action !== 'error' && raw.action !== 'use_cluster') {
    problems.push('default.action must be error|use_cluster');
  }

  // Step 5, per route in file order.
  const firstIndexOfPrefix = new Map<string, number>();
  raw.routes.forEach((route, i) => {
    if (route === undefined) {
      return;
    }
    if (route.prefix === '') {
      problems.push(`route[${i}]: prefix must be non-empty`);
    }
    if (
      route.authorization !== INVALID &&
      route.authorization !== 'none' &&
      route.authorization !== 'required'
    ) {
      problems.push(`route[${i}]: authorization must be none|required`);
    }
    if (route.balancerType !== INVALID) {
      if (route.balancerType !== 'round_robin' && route.balancerType !== 'sticky_sessions') {
        problems.push(`route[${i}]: balancer.type must be round_robin|sticky_sessions`);
      } else if (route.balancerType === 'sticky_sessions' && route.balancerHeader !== INVALID) {
        if (!route.balancerHeader) {
          problems.push(`route[${i}]: balancer.header is required for sticky_sessions`);
        } else if (!METADATA_KEY.test(route.balancerHeader)) {
          problems.push(
            `route[${i}]: balancer.header must be a valid metadata key, got ${JSON.stringify(route.balancerHeader)}`,
          );
        }
      }
    }
    // Beyond the reference (8.22): which of two equal prefixes won was left to an unstable sort.
    if (route.prefix !== INVALID && route.prefix !== '') {
      const first = firstIndexOfPrefix.get(route.prefix);
      if (first === undefined) {
        firstIndexOfPrefix.set(route.prefix, i);
      } else {
        problems.push(`route[${i}]: duplicate prefix ${JSON.stringify(route.prefix)} (also route[${first}])`);
      }
    }
  });
  if (raw.action === 'use_cluster' && raw.useCluster !== INVALID && !raw.useCluster) {
    problems.push('route[-1]: default.cluster is required when default.action=use_cluster');
  }

  // Step 6, in file order (the reference iterates a Go map, so its first message varies: 8.22).
  for (const cluster of raw.clusters ?? []) {
    problems.push(...checkCluster(cluster));
  }

  // Steps 7 and 8 need the set of cluster ids, unknowable when `clusters` had the wrong type.
  if (raw.clusters !== undefined) {
    const ids = new Set(raw.clusters.map((cluster) => cluster.id));
    for (const route of raw.routes) {
      if (route && route.prefix !== INVALID && route.cluster !== INVALID && !ids.has(route.cluster ?? '')) {
        problems.push(
          `route prefix ${JSON.stringify(route.prefix)} references unknown cluster ${JSON.stringify(route.cluster ?? '')}`,
        );
      }
    }
    if (
      raw.action === 'use_cluster' &&
      raw.useCluster !== INVALID &&
      raw.useCluster &&
      !ids.has(raw.useCluster)
    ) {
      problems.push(`default cluster ${JSON.stringify(raw.useCluster)} is not defined`);
    }
  }
  return problems;
}

function checkCluster(cluster: RawCluster): string[] {
  const { id } = cluster;
  const problems: string[] = [];
  if (id === '') {
    problems.push('cluster "": id must be non-empty');
  }
  if (!cluster.readable || cluster.type === INVALID) {
    return problems;
  }
  switch (cluster.type) {
    case 'static':
      if (cluster.address === INVALID) {
        break;
      }
      if (!cluster.address) {
        problems.push(`cluster ${id}: address is required for static cluster`);
      } else if (!isHostPort(cluster.address)) {
        problems.push(
          `cluster ${id}: address must be host:port with a port 1-65535, got ${JSON.stringify(cluster.address)}`,
        );
      }
      break;
    case 'dynamic':
      if (cluster.discovererUrl !== INVALID) {
        if (!cluster.discovererUrl) {
          problems.push(`cluster ${id}: discoverer_url is required for dynamic cluster`);
        } else if (normaliseDiscovererUrl(cluster.discovererUrl) === undefined) {
          problems.push(
            `cluster ${id}: discoverer_url must be an http(s) URL like http://host:port, got ${JSON.stringify(cluster.discovererUrl)}`,
          );
        }
      }
      if (cluster.discovererIntervalMs !== INVALID) {
        const interval = cluster.discovererIntervalMs ?? 0;
        if (interval <= 0) {
          problems.push(`cluster ${id}: discoverer_interval_ms must be positive`);
        } else if (interval > MAX_TIMER_MS) {
          problems.push(
            `cluster ${id}: discoverer_interval_ms must be at most ${MAX_TIMER_MS}, got ${interval}`,
          );
        }
      }
      break;
    default:
      problems.push(`cluster ${id}: type must be static|dynamic`);
  }
  return problems;
}

/** Only called once every check passed, so every field is present and valid. */
function buildConfig(raw: RawDocument): GatewayYamlConfig {
  const defaultAction: DefaultAction =
    raw.action === 'use_cluster'
      ? { action: 'use_cluster', cluster: raw.useCluster as string }
      : { action: 'error' };
  const routes = raw.routes.map((route): RouteConfig => {
    const r = route as RawRoute;
    const balancer: BalancerConfig =
      r.balancerType === 'sticky_sessions'
        ? { type: 'sticky_sessions', header: r.balancerHeader as string }
        : { type: 'round_robin' };
    return {
      prefix: r.prefix as string,
      cluster: r.cluster as string,
      authorization: r.authorization === 'required' ? 'required' : 'none',
      balancer,
    };
  });
  const clusters = (raw.clusters ?? []).map(
    (cluster): ClusterConfig =>
      cluster.type === 'static'
        ? { type: 'static', id: cluster.id, address: cluster.address as string }
        : {
            type: 'dynamic',
            id: cluster.id,
            discovererUrl: normaliseDiscovererUrl(cluster.discovererUrl as string) as string,
            discovererIntervalMs: cluster.discovererIntervalMs as number,
          },
  );
  return { default: defaultAction, routes, clusters };
}

/** RFC 9110 token characters, lower-case only (HTTP/2 header names are lower-case). */
const METADATA_KEY = /^[0-9a-z!#$%&'*+.^_`|~-]+$/;

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]/@]+):([0-9]{1,5})$/;

function isHostPort(address: string): boolean {
  const match = HOST_PORT.exec(address);
  if (!match) {
    return false;
  }
  const host = match[1] as string;
  if (host.startsWith('[') && isIP(host.slice(1, -1)) !== 6) {
    return false;
  }
  const port = Number(match[2]);
  return port >= 1 && port <= 65_535;
}

/**
 * The discoverer client appends `/v1/...` to this URL, so a trailing `/`, a query or a fragment
 * would break it; credentials are refused so they can never end up in a log line.
 */
function normaliseDiscovererUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const plain = url.search === '' && url.hash === '' && !value.includes('?') && !value.includes('#');
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !plain || url.username || url.password) {
    return undefined;
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function clusterPath(id: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(id) ? `clusters.${id}` : `clusters[${JSON.stringify(id)}]`;
}

/** Reads one field with its expected YAML type; YAML `null` (e.g. `key:` with no value) counts as absent. */
class ShapeReader {
  readonly problems: string[] = [];

  mapping(value: unknown, path: string): Field<ReadonlyMap<string, unknown>> {
    if (value === undefined || value === null) {
      return undefined;
    }
    if (value instanceof Map) {
      return value as ReadonlyMap<string, unknown>;
    }
    return this.wrongType(path, 'a mapping', value);
  }

  list(value: unknown, path: string): Field<readonly unknown[]> {
    if (value === undefined || value === null) {
      return undefined;
    }
    if (Array.isArray(value)) {
      return value;
    }
    return this.wrongType(path, 'a list', value);
  }

  /** Trimmed, as the reference trims every string field. */
  string(value: unknown, path: string): Field<string> {
    if (value === undefined || value === null) {
      return undefined;
    }
    if (typeof value === 'string') {
      return value.trim();
    }
    return this.wrongType(path, 'a string', value);
  }

  /** The sign is checked by the reference's own rule (`must be positive`), not here. */
  integer(value: unknown, path: string): Field<number> {
    if (value === undefined || value === null) {
      return undefined;
    }
    if (typeof value === 'number' && Number.isSafeInteger(value)) {
      return value;
    }
    return this.wrongType(path, 'a positive integer', value);
  }

  private wrongType(path: string, expected: string, value: unknown): typeof INVALID {
    this.problems.push(`${path}: expected ${expected}, got ${describeYamlValue(value)}`);
    return INVALID;
  }
}

/** Short, single-line rendering of a YAML value for a message (long strings are cut). */
export function describeYamlValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null || value === undefined) {
    return 'nothing';
  }
  if (Array.isArray(value)) {
    return 'a list';
  }
  if (value instanceof Map) {
    return 'a mapping';
  }
  return 'an unsupported value';
}
