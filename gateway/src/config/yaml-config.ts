import {
  type ConfigProblem,
  checkDocument,
  isWithin,
  type PathSegment,
  type Static,
} from '@stickygw/servicekit';
import type { ClusterConfig, GatewayConfig } from './types.js';
import {
  type ClusterTypeSchema,
  type ClusterYaml,
  DynamicClusterYaml,
  GatewayYaml,
  gatewayYaml,
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
export function readGatewayYaml(
  document: unknown,
  clusterTypes: Readonly<Record<string, ClusterTypeSchema>> = {},
): GatewayYamlOutcome {
  const checked = checkDocument(schemaWith(clusterTypes), document);
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
      [
        ...duplicatePrefixes(routes),
        ...idleTimeoutsOffStickyRoutes(routes),
        ...ejectionBoundsReversed(valueAt(data, 'clusters')),
        ...dynamicOnlyBlocks(document),
        ...authorizationForwardingConflicts(routes),
      ],
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

/** One schema per set of added cluster types: the checker compiles each schema object once. */
const schemas = new WeakMap<object, typeof GatewayYaml>();

function schemaWith(clusterTypes: Readonly<Record<string, ClusterTypeSchema>>): typeof GatewayYaml {
  if (Object.keys(clusterTypes).length === 0) return GatewayYaml;
  let schema = schemas.get(clusterTypes);
  if (schema === undefined) {
    schema = gatewayYaml(clusterTypes);
    schemas.set(clusterTypes, schema);
  }
  return schema;
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
      ...(route.strip_request_headers === undefined
        ? {}
        : { stripRequestHeaders: route.strip_request_headers.map((name) => name.toLowerCase()) }),
      ...(route.forward_authorization === undefined
        ? {}
        : { forwardAuthorization: route.forward_authorization }),
    })),
    clusters: clusterIds.map((id) => toClusterConfig(id, yaml.clusters[id])),
    sessionStore:
      yaml.session_store.type === 'redis'
        ? { type: 'redis', url: yaml.session_store.url }
        : { type: 'memory' },
  };
}

function toClusterConfig(id: string, cluster: Static<typeof ClusterYaml>): ClusterConfig {
  const type: string = cluster.type;
  if (type !== 'static' && type !== 'dynamic') {
    return { type: 'extension', id, extensionType: type, settings: cluster as Record<string, unknown> };
  }
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
        ...(cluster.health_check === undefined
          ? {}
          : {
              healthCheck: {
                intervalMs: cluster.health_check.interval_ms,
                timeoutMs: cluster.health_check.timeout_ms,
                unhealthyThreshold: cluster.health_check.unhealthy_threshold,
                healthyThreshold: cluster.health_check.healthy_threshold,
                service: cluster.health_check.service,
              },
            }),
        ...(cluster.outlier_detection === undefined
          ? {}
          : {
              outlierDetection: {
                consecutiveFailures: cluster.outlier_detection.consecutive_failures,
                baseEjectionMs: cluster.outlier_detection.base_ejection_ms,
                maxEjectionMs: cluster.outlier_detection.max_ejection_ms,
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

/**
 * A static cluster has one address and no failover, so a `health_check` or `outlier_detection`
 * there could only be ignored (the schema drops keys it does not know), hiding a misplaced block.
 * Read from the raw document: the checked copy has dropped them already.
 */
function dynamicOnlyBlocks(document: unknown): ConfigProblem[] {
  const clusters = document instanceof Map ? document.get('clusters') : undefined;
  if (!(clusters instanceof Map)) return [];
  const problems: ConfigProblem[] = [];
  for (const [id, cluster] of clusters) {
    if (!(cluster instanceof Map) || String(cluster.get('type')).trim() !== 'static') continue;
    for (const block of ['health_check', 'outlier_detection']) {
      if (cluster.get(block) === undefined || cluster.get(block) === null) continue;
      problems.push({
        path: ['clusters', String(id), block],
        message: `cluster ${String(id)}: ${block} applies to dynamic clusters only`,
      });
    }
  }
  return problems;
}

/** `max_ejection_ms` below `base_ejection_ms` would cap every ejection under its own base. */
function ejectionBoundsReversed(clusters: unknown): ConfigProblem[] {
  if (!isMapping(clusters)) return [];
  return Object.entries(clusters).flatMap(([id, cluster]): ConfigProblem[] => {
    const outlier = valueAt(cluster, 'outlier_detection');
    const base = valueAt(outlier, 'base_ejection_ms');
    const max = valueAt(outlier, 'max_ejection_ms');
    const valid = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 1;
    if (!valid(base) || !valid(max) || max >= base) return [];
    return [
      {
        path: ['clusters', id, 'outlier_detection'],
        message: `cluster ${id}: outlier_detection.max_ejection_ms (${max}) must be at least base_ejection_ms (${base})`,
      },
    ];
  });
}

/**
 * `forward_authorization: true` only means something on an `authorization: none` route (a route
 * that checks the token always forwards it), and it cannot coexist with stripping `authorization`:
 * either way one of the two settings would be silently ignored.
 */
function authorizationForwardingConflicts(routes: readonly unknown[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  routes.forEach((route, i) => {
    if (valueAt(route, 'forward_authorization') !== true) return;
    const stripped = valueAt(route, 'strip_request_headers');
    if (
      Array.isArray(stripped) &&
      stripped.some((name) => typeof name === 'string' && name.toLowerCase() === 'authorization')
    ) {
      problems.push({
        path: ['routes', i],
        message: `route[${i}]: forward_authorization: true contradicts strip_request_headers naming authorization`,
      });
    } else if (valueAt(route, 'authorization') === 'required') {
      problems.push({
        path: ['routes', i],
        message: `route[${i}]: forward_authorization applies to authorization: none routes only (authorization: required routes forward the token)`,
      });
    }
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
