import {
  type ConfigProblem,
  checkDocument,
  isWithin,
  type PathSegment,
  type Static,
} from '@stickygw/servicekit';
import type { ClusterConfig, GatewayConfig } from './types.js';
import {
  type ClusterYaml,
  DynamicClusterYaml,
  GatewayYaml,
  normaliseDiscovererUrl,
  normalisePrefix,
  StaticClusterYaml,
} from './yaml-schema.js';

/** The part of the gateway configuration that comes from the YAML file (REFERENCE.md 6.2). */
export type GatewayYamlConfig = Pick<GatewayConfig, 'default' | 'routes' | 'clusters'> & {
  /** The url may still come from SESSION_STORE_URL. */
  readonly sessionStore:
    | { readonly type: 'memory' }
    | { readonly type: 'redis'; readonly url: string | undefined };
};

/** Outcome of {@link readGatewayYaml}: a config when `problems` is empty, never both. */
export interface GatewayYamlOutcome {
  readonly config: GatewayYamlConfig | undefined;
  readonly problems: readonly ConfigProblem[];
  /** At least one route has `authorization: required` (step 9 of 6.1 needs JWT_SECRET then). */
  readonly requiresJwt: boolean;
}

/**
 * Checks a parsed YAML document (`yaml`'s `toJS({ mapAsMap: true })`, mappings as `Map`s in file
 * order) against {@link GatewayYaml}, then across fields: duplicate prefixes (beyond the reference,
 * 8.22: which of two equal prefixes won was left to an unstable sort), routes naming an unknown
 * cluster (step 7) and an unknown default cluster (step 8).
 *
 * Problems come in the reference's checking order, so `problems[0]` is the reference's message: type
 * problems first (the reference fails those while unmarshalling), then step 4 (default.action), step 5
 * route by route, the default cluster's presence, step 6 cluster by cluster in file order (the
 * reference iterates a Go map, so its order varies: 8.22), then steps 7 and 8.
 */
export function readGatewayYaml(document: unknown): GatewayYamlOutcome {
  const checked = checkDocument(GatewayYaml, document);
  const { data } = checked;
  // From the document itself: file order, which an object would lose for integer-like ids.
  const clusters = document instanceof Map ? document.get('clusters') : undefined;
  // Absent or null, it took the schema's default (no clusters); of the wrong type, it is unknowable.
  const clusterIds =
    clusters instanceof Map
      ? [...clusters.keys()].map(String)
      : isMapping(valueAt(data, 'clusters'))
        ? []
        : undefined;
  const routes = listAt(data, 'routes');
  const requiresJwt = routes.some((route) => valueAt(route, 'authorization') === 'required');

  const problems = [
    ...inPlaceOrder(
      checked.ok ? [] : checked.problems,
      [...duplicatePrefixes(routes), ...idleTimeoutsOffStickyRoutes(routes)],
      routes.length,
      clusterIds ?? [],
    ),
    ...unknownClusters(data, routes, clusterIds),
  ];
  if (!checked.ok || problems.length > 0 || clusterIds === undefined) {
    return { config: undefined, problems, requiresJwt };
  }
  return { config: toYamlConfig(checked.value, clusterIds), problems, requiresJwt };
}

function toYamlConfig(yaml: Static<typeof GatewayYaml>, clusterIds: readonly string[]): GatewayYamlConfig {
  return {
    default:
      yaml.default.action === 'use_cluster'
        ? { action: 'use_cluster', cluster: yaml.default.use_cluster }
        : { action: 'error' },
    routes: yaml.routes.map((route) => ({
      prefix: normalisePrefix(route.prefix),
      cluster: route.cluster,
      authorization: route.authorization,
      // Lower-cased: HTTP/2 header names are lower-case, so `Session-Id` could never match otherwise.
      balancer:
        route.balancer.type === 'sticky_sessions'
          ? { type: 'sticky_sessions', header: route.balancer.header.toLowerCase() }
          : { type: 'round_robin' },
      ...(route.session_idle_timeout_ms === undefined
        ? {}
        : { sessionIdleTimeoutMs: route.session_idle_timeout_ms }),
    })),
    clusters: clusterIds.map((id) => toClusterConfig(id, yaml.clusters[id])),
    sessionStore:
      yaml.session_store.type === 'redis'
        ? { type: 'redis', url: yaml.session_store.url }
        : { type: 'memory' },
  };
}

function toClusterConfig(id: string, cluster: Static<typeof ClusterYaml>): ClusterConfig {
  const tls =
    cluster.tls === undefined
      ? {}
      : {
          tls: {
            ...(cluster.tls.ca_file === undefined ? {} : { caFile: cluster.tls.ca_file }),
            ...(cluster.tls.cert_file === undefined ? {} : { certFile: cluster.tls.cert_file }),
            ...(cluster.tls.key_file === undefined ? {} : { keyFile: cluster.tls.key_file }),
            ...(cluster.tls.server_name === undefined ? {} : { serverName: cluster.tls.server_name }),
          },
        };
  return cluster.type === 'static'
    ? { type: 'static', id, address: cluster.address, ...tls }
    : {
        ...tls,
        type: 'dynamic',
        id,
        discovererUrl: normaliseDiscovererUrl(cluster.discoverer_url),
        discovererIntervalMs: cluster.discoverer_interval_ms,
        ...(cluster.discoverer_token_file === undefined && cluster.discoverer_token_env === undefined
          ? {}
          : {
              discovererTokenSource: {
                ...(cluster.discoverer_token_file === undefined
                  ? {}
                  : { file: cluster.discoverer_token_file }),
                ...(cluster.discoverer_token_env === undefined ? {} : { env: cluster.discoverer_token_env }),
              },
            }),
      };
}

/** Schema and duplicate problems, placed in the reference's order (see {@link readGatewayYaml}). */
function inPlaceOrder(
  schemaProblems: readonly ConfigProblem[],
  duplicates: readonly ConfigProblem[],
  routeCount: number,
  clusterIds: readonly string[],
): ConfigProblem[] {
  const routes = Array.from({ length: routeCount }, (_, i): Place => ['routes', i]);
  const clusters = clusterIds.map((id): Place => ['clusters', id]);
  // The id first, then the fields in the schema's order (Ajv lists missing fields before wrong ones).
  const clusterFields = clusterIds.flatMap((id): Place[] => [
    { exactly: ['clusters', id] },
    ...CLUSTER_FIELDS.map((field): Place => ['clusters', id, field]),
    ['clusters', id],
  ]);
  const wrongTypes = schemaProblems.filter((problem) => problem.wrongType);
  const checks = [...schemaProblems.filter((problem) => !problem.wrongType), ...duplicates];
  return [
    ...takeInOrder(wrongTypes, [['default'], ['routes'], ...clusters, ['clusters'], ['session_store']]),
    ...takeInOrder(checks, [
      ['default', 'action'],
      ...routes,
      ['default'],
      ...clusterFields,
      ['clusters'],
      ['session_store'],
    ]),
  ];
}

/** Everything at or below a path, or only what is exactly there. */
type Place = readonly PathSegment[] | { readonly exactly: readonly PathSegment[] };

const CLUSTER_FIELDS = [
  ...new Set([...Object.keys(StaticClusterYaml.properties), ...Object.keys(DynamicClusterYaml.properties)]),
];

/** The problems within each place, place after place; a problem goes to the first place holding it. */
function takeInOrder(problems: readonly ConfigProblem[], places: readonly Place[]): ConfigProblem[] {
  const left = new Set(problems);
  return places.flatMap((place) => {
    const here = [...left].filter((problem) =>
      'exactly' in place
        ? isWithin(problem.path, place.exactly) && problem.path.length === place.exactly.length
        : isWithin(problem.path, place),
    );
    for (const problem of here) left.delete(problem);
    return here;
  });
}

// The checks across fields read the checked copy of the document: they also run where the schema
// found problems, and skip a field of the wrong type (already reported).

function duplicatePrefixes(routes: readonly unknown[]): ConfigProblem[] {
  const firstIndexOfPrefix = new Map<string, number>();
  const problems: ConfigProblem[] = [];
  routes.forEach((route, i) => {
    const prefix = valueAt(route, 'prefix');
    if (typeof prefix !== 'string' || normalisePrefix(prefix) === '') return;
    const normalised = normalisePrefix(prefix);
    const first = firstIndexOfPrefix.get(normalised);
    if (first === undefined) {
      firstIndexOfPrefix.set(normalised, i);
    } else {
      problems.push({
        path: ['routes', i],
        message: `route[${i}]: duplicate prefix ${JSON.stringify(normalised)} (also route[${first}])`,
      });
    }
  });
  return problems;
}

/**
 * Only a sticky route has bindings to release; on any other route the field would be ignored,
 * which hides a typo in the balancer. A value of the wrong type or balancer is reported already.
 */
function idleTimeoutsOffStickyRoutes(routes: readonly unknown[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  routes.forEach((route, i) => {
    const timeout = valueAt(route, 'session_idle_timeout_ms');
    const balancer = valueAt(valueAt(route, 'balancer'), 'type') ?? 'round_robin';
    if (!Number.isInteger(timeout) || (timeout as number) < 1 || balancer !== 'round_robin') return;
    problems.push({
      path: ['routes', i],
      message: `route[${i}]: session_idle_timeout_ms applies to sticky_sessions routes only`,
    });
  });
  return problems;
}

/** Steps 7 and 8, unknowable when `clusters` had the wrong type (`clusterIds` undefined). */
function unknownClusters(
  data: unknown,
  routes: readonly unknown[],
  clusterIds: readonly string[] | undefined,
): ConfigProblem[] {
  if (clusterIds === undefined) return [];
  const ids = new Set(clusterIds);
  const problems: ConfigProblem[] = [];
  routes.forEach((route, i) => {
    const prefix = valueAt(route, 'prefix');
    const cluster = valueAt(route, 'cluster');
    if (typeof prefix === 'string' && typeof cluster === 'string' && !ids.has(cluster)) {
      problems.push({
        path: ['routes', i, 'cluster'],
        message: `route prefix ${JSON.stringify(normalisePrefix(prefix))} references unknown cluster ${JSON.stringify(cluster)}`,
      });
    }
  });
  const defaults = valueAt(data, 'default');
  const useCluster = valueAt(defaults, 'use_cluster');
  if (
    valueAt(defaults, 'action') === 'use_cluster' &&
    typeof useCluster === 'string' &&
    !ids.has(useCluster)
  ) {
    problems.push({
      path: ['default', 'use_cluster'],
      message: `default cluster ${JSON.stringify(useCluster)} is not defined`,
    });
  }
  return problems;
}

function isMapping(value: unknown): value is Readonly<Record<string, unknown>> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function valueAt(node: unknown, key: string): unknown {
  return isMapping(node) ? node[key] : undefined;
}

function listAt(node: unknown, key: string): readonly unknown[] {
  const value = valueAt(node, key);
  return Array.isArray(value) ? value : [];
}
