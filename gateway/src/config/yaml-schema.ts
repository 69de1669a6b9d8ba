import { isIP } from 'node:net';
import {
  describeValue,
  MAX_TIMER_MS,
  type Message,
  type Messages,
  stringEnum,
  Type,
  taggedUnion,
} from '@stickygw/servicekit';
import { parseSessionStoreUrl, redactedStoreUrl } from './session-store-url.js';

/**
 * The gateway's YAML file (REFERENCE.md 6.2): each field's type, default, checks and messages.
 * Unknown keys are ignored, as the reference ignores them. Strings are trimmed and a blank value
 * counts as absent before the check (`checkDocument`), so `authorization: ""` is `none`.
 *
 * The messages are the reference's (steps 4-6 of 6.1), plus the checks beyond it (REFERENCE.md 8.22
 * and friends): a static `address` must be `host:port`, `discoverer_url` an http(s) URL,
 * `discoverer_interval_ms` must fit a Node timer, a sticky header must be a valid metadata key and
 * a cluster id non-empty. Checks across fields (duplicate prefixes, unknown clusters) follow the
 * schema in `yaml-config.ts`.
 */

/** `route[<index>]: <problem>`, the reference's wording (singular `route`). */
const routeProblem =
  (problem: string): Message =>
  ({ path }) =>
    `route[${path[1]}]: ${problem}`;

const clusterProblem =
  (problem: string): Message =>
  ({ path }) =>
    `cluster ${path[1]}: ${problem}`;

/** RFC 9110 token characters; upper case is accepted and lower-cased (HTTP/2 header names are lower-case). */
const METADATA_KEY = "^[0-9A-Za-z!#$%&'*+.^_`|~-]+$";

export const BalancerYaml = taggedUnion(
  'type',
  [
    Type.Object({ type: Type.Literal('round_robin') }),
    Type.Object({
      type: Type.Literal('sticky_sessions'),
      /** The metadata key whose value is the sticky key (e.g. `session-id`). */
      header: Type.String({
        pattern: METADATA_KEY,
        messages: {
          required: routeProblem('balancer.header is required for sticky_sessions'),
          pattern: ({ path, value }) =>
            `route[${path[1]}]: balancer.header must be a valid metadata key, got ${JSON.stringify(String(value).toLowerCase())}`,
        } satisfies Messages,
      }),
    }),
  ],
  {
    tagDefault: 'round_robin',
    default: {},
    messages: {
      invalid: routeProblem('balancer.type must be round_robin|sticky_sessions'),
    } satisfies Messages,
  },
);

/**
 * Why a name cannot be in `strip_request_headers`, or undefined. Pseudo-headers are the request
 * itself; `content-type` and `te` are what makes it a gRPC call (PROTOCOL-HTTP2.md), so the
 * backend would refuse every call without them.
 */
function strippableHeaderProblem(name: string): string | undefined {
  if (name.startsWith(':')) return 'must not be a pseudo-header';
  if (!new RegExp(METADATA_KEY).test(name)) return 'must be a valid header name';
  const lower = name.toLowerCase();
  if (lower === 'content-type' || lower === 'te') return 'must not be a header gRPC requires';
  return undefined;
}

export const RouteYaml = Type.Object({
  /** A prefix of the full method name; normalised by {@link normalisePrefix}, which must leave something. */
  prefix: Type.String({
    default: '',
    pattern: '^(?!\\*?$)',
    messages: { pattern: routeProblem('prefix must be non-empty') } satisfies Messages,
  }),
  /** Must name a cluster; checked after the schema. */
  cluster: Type.String({ default: '' }),
  authorization: stringEnum(['none', 'required'], {
    default: 'none',
    messages: { invalid: routeProblem('authorization must be none|required') } satisfies Messages,
  }),
  balancer: BalancerYaml,
  /**
   * Request headers the backend does not get (lower-cased). Filters and the balancer still see them:
   * the JWT check and the sticky header work on the client's headers.
   */
  strip_request_headers: Type.Optional(
    Type.Array(
      Type.String({
        check: strippableHeaderProblem,
        messages: {
          required: ({ path }) =>
            `route[${path[1]}]: strip_request_headers[${path[3]}] must be a header name`,
          invalid: ({ path, value, reason }) =>
            `route[${path[1]}]: strip_request_headers[${path[3]}] ${reason ?? 'must be a header name'}, got ${describeValue(value)}`,
        } satisfies Messages,
      }),
    ),
  ),
  /**
   * Routes with `authorization: none` drop the client's `authorization` header unless this is
   * true (a backend that checks the token itself); `authorization: required` routes forward it.
   */
  forward_authorization: Type.Optional(Type.Boolean()),
  /** Sticky routes: a binding unused for this long is released (default: never). */
  session_idle_timeout_ms: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_TIMER_MS,
      messages: {
        type: ({ path, value }) =>
          `route[${path[1]}]: session_idle_timeout_ms must be a positive integer, got ${describeValue(value)}`,
        minimum: ({ path, value }) =>
          `route[${path[1]}]: session_idle_timeout_ms must be a positive integer, got ${value}`,
        maximum: ({ path, value }) =>
          `route[${path[1]}]: session_idle_timeout_ms must be at most ${MAX_TIMER_MS}, got ${value}`,
      } satisfies Messages,
    }),
  ),
});

const DefaultYaml = taggedUnion(
  'action',
  [
    Type.Object({ action: Type.Literal('error') }),
    Type.Object({
      action: Type.Literal('use_cluster'),
      use_cluster: Type.String({
        messages: {
          // The reference reports it after the routes, as route -1.
          required: () => 'route[-1]: default.cluster is required when default.action=use_cluster',
        } satisfies Messages,
      }),
    }),
  ],
  {
    tagDefault: 'error',
    default: {},
    messages: { invalid: () => 'default.action must be error|use_cluster' } satisfies Messages,
  },
);

const tlsPath =
  (field: string): Message =>
  ({ path, value }) =>
    `cluster ${path[1]}: tls.${field} must be a non-empty string, got ${describeValue(value)}`;

/**
 * TLS towards a cluster's instances (ALPN h2). Paths are relative to the YAML file; the files are
 * read by the loader (at start-up and on every reload). Without `ca_file` the system CAs are trusted;
 * `cert_file` and `key_file` (both or neither) are the gateway's client certificate for mutual TLS;
 * `server_name` is sent as SNI and checked against the certificate instead of the instance's host.
 */
const UpstreamTlsYaml = Type.Object(
  {
    ca_file: Type.Optional(Type.String({ minLength: 1, messages: { invalid: tlsPath('ca_file') } })),
    cert_file: Type.Optional(Type.String({ minLength: 1, messages: { invalid: tlsPath('cert_file') } })),
    key_file: Type.Optional(Type.String({ minLength: 1, messages: { invalid: tlsPath('key_file') } })),
    server_name: Type.Optional(Type.String({ minLength: 1, messages: { invalid: tlsPath('server_name') } })),
  },
  {
    messages: {
      type: ({ path, value }) => `cluster ${path[1]}: tls must be a mapping, got ${describeValue(value)}`,
    } satisfies Messages,
  },
);

export const StaticClusterYaml = Type.Object({
  type: Type.Literal('static'),
  /** `host:port` */
  address: Type.String({
    check: (address: string) => (isHostPort(address) ? undefined : 'not host:port'),
    messages: {
      required: clusterProblem('address is required for static cluster'),
      check: ({ path, value }) =>
        `cluster ${path[1]}: address must be host:port with a port 1-65535, got ${JSON.stringify(value)}`,
    } satisfies Messages,
  }),
  tls: Type.Optional(UpstreamTlsYaml),
});

const mustBePositive = clusterProblem('discoverer_interval_ms must be positive');

/** A positive millisecond or count field of a cluster's `health_check` or `outlier_detection`. */
function positiveClusterInteger(block: string, field: string, fallback: number, maximum = MAX_TIMER_MS) {
  const problem: Message = ({ path, value }) =>
    `cluster ${path[1]}: ${block}.${field} must be an integer 1..${maximum}, got ${describeValue(value)}`;
  return Type.Integer({
    minimum: 1,
    maximum,
    default: fallback,
    messages: { type: problem, minimum: problem, maximum: problem } satisfies Messages,
  });
}

/**
 * Active health checks (`grpc.health.v1.Health/Check`, one at a time per instance, over the
 * instance's pooled upstream connection). Defaults: a check every 5 s, 1 s to answer, out after 2
 * failures in a row, back after 2 successes in a row, the whole server (`service: ""`).
 */
const HealthCheckYaml = Type.Object({
  interval_ms: positiveClusterInteger('health_check', 'interval_ms', 5000),
  timeout_ms: positiveClusterInteger('health_check', 'timeout_ms', 1000),
  unhealthy_threshold: positiveClusterInteger('health_check', 'unhealthy_threshold', 2, 1000),
  healthy_threshold: positiveClusterInteger('health_check', 'healthy_threshold', 2, 1000),
  service: Type.String({ default: '' }),
});

/**
 * Passive outlier detection (Envoy's `consecutive_gateway_failure`): this many transport failures
 * in a row eject the instance for `base_ejection_ms` times its ejection count, at most
 * `max_ejection_ms`. Defaults are Envoy's: 5, 30 s, 300 s.
 */
const OutlierDetectionYaml = Type.Object({
  consecutive_failures: positiveClusterInteger('outlier_detection', 'consecutive_failures', 5, 1000),
  base_ejection_ms: positiveClusterInteger('outlier_detection', 'base_ejection_ms', 30_000),
  max_ejection_ms: positiveClusterInteger('outlier_detection', 'max_ejection_ms', 300_000),
});

export const DynamicClusterYaml = Type.Object({
  type: Type.Literal('dynamic'),
  discoverer_url: Type.String({
    check: (url: string) => (isDiscovererUrl(url) ? undefined : 'not an http(s) URL'),
    messages: {
      required: clusterProblem('discoverer_url is required for dynamic cluster'),
      check: ({ path, value }) =>
        `cluster ${path[1]}: discoverer_url must be an http(s) URL like http://host:port, got ${JSON.stringify(value)}`,
    } satisfies Messages,
  }),
  // A huge interval would overflow the poll timer and hammer the discoverer instead.
  discoverer_interval_ms: Type.Integer({
    minimum: 1,
    maximum: MAX_TIMER_MS,
    messages: {
      type: ({ where, value }) => `${where}: expected a positive integer, got ${describeValue(value)}`,
      required: mustBePositive,
      minimum: mustBePositive,
      maximum: ({ path, value }) =>
        `cluster ${path[1]}: discoverer_interval_ms must be at most ${MAX_TIMER_MS}, got ${value}`,
    } satisfies Messages,
  }),
  /**
   * Where the discoverer's bearer token comes from, when it wants one (`DISCOVERER_TOKEN`, or
   * `DISCOVERER_READ_TOKEN` for a gateway that must not unregister): a file (relative to the YAML
   * file) or an environment variable of the gateway. Read once at start-up, never logged.
   */
  discoverer_token_file: Type.Optional(
    Type.String({
      minLength: 1,
      messages: {
        invalid: clusterProblem('discoverer_token_file must be a non-empty path'),
      } satisfies Messages,
    }),
  ),
  discoverer_token_env: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
      messages: {
        invalid: ({ path, value }) =>
          `cluster ${path[1]}: discoverer_token_env must name an environment variable, got ${describeValue(value)}`,
      } satisfies Messages,
    }),
  ),
  health_check: Type.Optional(HealthCheckYaml),
  outlier_detection: Type.Optional(OutlierDetectionYaml),
  tls: Type.Optional(UpstreamTlsYaml),
});

/** The fields of an embedder's cluster type besides `type` (`LoadConfigOptions.clusterTypes`). */
export type ClusterTypeSchema = ReturnType<typeof Type.Object>;

export const ClusterYaml = taggedUnion('type', [StaticClusterYaml, DynamicClusterYaml], {
  messages: { invalid: clusterProblem('type must be static|dynamic') } satisfies Messages,
});

/** A cluster's mapping: a built-in type, or one of `extensions` (YAML `type` → its fields' schema). */
function clusterYamlWith(extensions: Readonly<Record<string, ClusterTypeSchema>>) {
  const added = Object.entries(extensions).map(([type, schema]) =>
    Type.Object({ type: Type.Literal(type), ...schema.properties }),
  );
  const types = ['static', 'dynamic', ...Object.keys(extensions)].join('|');
  return taggedUnion('type', [StaticClusterYaml, DynamicClusterYaml, ...added], {
    messages: { invalid: clusterProblem(`type must be ${types}`) } satisfies Messages,
  });
}

/** A `session_store.url` (or SESSION_STORE_URL): the forms of {@link parseSessionStoreUrl}. */
export function sessionStoreUrlProblem(where: string, url: string): string | undefined {
  return parseSessionStoreUrl(url) === undefined
    ? `${where} must be a redis://host:port, rediss://host:port or redis+cluster://host:port,host:port URL, got ${JSON.stringify(redactedStoreUrl(url))}`
    : undefined;
}

/** Where sticky bindings live: this process (`memory`), or a Redis shared by every gateway process. */
const SessionStoreYaml = taggedUnion(
  'type',
  [
    Type.Object({ type: Type.Literal('memory') }),
    Type.Object({
      type: Type.Literal('redis'),
      /** Required unless SESSION_STORE_URL is set (checked with the environment). */
      url: Type.Optional(
        Type.String({
          check: (url: string) => sessionStoreUrlProblem('session_store.url', url),
          messages: {
            check: ({ reason }) => reason ?? 'session_store.url is not a session store URL',
          } satisfies Messages,
        }),
      ),
    }),
  ],
  {
    tagDefault: 'memory',
    default: {},
    messages: { invalid: () => 'session_store.type must be memory|redis' } satisfies Messages,
  },
);

/** The whole file; `clusterTypes` adds an embedder's cluster types to the built-in ones. */
export function gatewayYaml(clusterTypes: Readonly<Record<string, ClusterTypeSchema>> = {}) {
  return Type.Object({
    default: DefaultYaml,
    /** In file order; the route table sorts them. */
    routes: Type.Array(RouteYaml, { default: [] }),
    /** By id, in file order (kept by the loader: integer-like ids would be reordered by an object). */
    // Typed as the built-in types only: the loader tells an embedder's clusters apart by their `type`.
    clusters: Type.Record(Type.String(), clusterYamlWith(clusterTypes) as unknown as typeof ClusterYaml, {
      default: {},
      propertyNames: { minLength: 1 },
      messages: { propertyNames: () => 'cluster "": id must be non-empty' } satisfies Messages,
    }),
    session_store: SessionStoreYaml,
  });
}

export const GatewayYaml = gatewayYaml();

/** REFERENCE.md 6.2: drop ONE trailing `*`, then make it start with `/` unless empty. */
export function normalisePrefix(prefix: string): string {
  const withoutStar = prefix.endsWith('*') ? prefix.slice(0, -1) : prefix;
  return withoutStar === '' || withoutStar.startsWith('/') ? withoutStar : `/${withoutStar}`;
}

/** The discoverer client appends `/v1/...`, so the URL loses its trailing `/`. */
export function normaliseDiscovererUrl(value: string): string {
  const url = new URL(value);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]/@]+):([0-9]{1,5})$/;

function isHostPort(address: string): boolean {
  const match = HOST_PORT.exec(address);
  if (!match) {
    return false;
  }
  const [, host = '', port] = match;
  if (host.startsWith('[') && isIP(host.slice(1, -1)) !== 6) {
    return false;
  }
  return Number(port) >= 1 && Number(port) <= 65_535;
}

/**
 * A query or a fragment would break the discoverer client's `/v1/...` paths; credentials are
 * refused so they can never end up in a log line.
 */
function isDiscovererUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  const plain = url.search === '' && url.hash === '' && !value.includes('?') && !value.includes('#');
  return (url.protocol === 'http:' || url.protocol === 'https:') && plain && !url.username && !url.password;
}
