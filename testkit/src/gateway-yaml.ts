import { stringify } from 'yaml';

/** A route of the gateway YAML (REFERENCE.md 6.3), with the document's own field names. */
interface GatewayYamlRoute {
  prefix: string;
  cluster: string;
  authorization: 'none' | 'required';
  balancer: { type: 'round_robin' } | { type: 'sticky_sessions'; header: string };
  session_idle_timeout_ms?: number;
}

/** A dynamic cluster's optional `health_check` and `outlier_detection` blocks (YAML field names). */
export interface DynamicClusterExtras {
  health_check?: {
    interval_ms?: number;
    timeout_ms?: number;
    unhealthy_threshold?: number;
    healthy_threshold?: number;
    service?: string;
  };
  outlier_detection?: { consecutive_failures?: number; base_ejection_ms?: number; max_ejection_ms?: number };
}

type GatewayYamlCluster =
  | { type: 'static'; address: string }
  | ({
      type: 'dynamic';
      discoverer_url: string;
      discoverer_interval_ms: number;
      discoverer_token_file?: string;
      discoverer_token_env?: string;
    } & DynamicClusterExtras);

/** Where a dynamic cluster's discoverer token comes from (`discoverer_token_file` / `_env`). */
type DiscovererTokenOption = { readonly tokenFile: string } | { readonly tokenEnv: string };

/** What a dynamic cluster may add to its URL and interval. */
export interface DynamicClusterOptions extends DynamicClusterExtras {
  /** The discoverer token, when the discoverer wants one. */
  readonly token?: DiscovererTokenOption;
}

/** Where the gateway keeps sticky bindings (`url` may come from SESSION_STORE_URL instead). */
type GatewayYamlSessionStore = { type: 'memory' } | { type: 'redis'; url?: string };

/** The whole gateway YAML document, as plain data (tests may break it on purpose). */
interface GatewayYamlDocument {
  default: { action: 'error' };
  routes: GatewayYamlRoute[];
  clusters: Record<string, GatewayYamlCluster>;
  session_store?: GatewayYamlSessionStore;
}

interface RouteOptions {
  /** Whether the route checks the JWT (default: `none`). */
  readonly authorization?: 'none' | 'required';
  /** The session header of an exclusive sticky balancer; without it the route balances round robin. */
  readonly stickyHeader?: string;
  /** Sticky routes: idle bindings are released after this many ms. */
  readonly sessionIdleTimeoutMs?: number;
}

/**
 * Builds a gateway configuration file programmatically: `route()`, `staticCluster()` and
 * `dynamicCluster()` in any order, then `document()` or `toString()`. Every call of `document()`
 * returns fresh objects.
 */
export class GatewayYaml {
  readonly #routes: GatewayYamlRoute[] = [];
  readonly #clusters: Record<string, GatewayYamlCluster> = {};
  #sessionStore: GatewayYamlSessionStore | undefined;

  route(prefix: string, cluster: string, options: RouteOptions = {}): this {
    const { authorization = 'none', stickyHeader, sessionIdleTimeoutMs } = options;
    const balancer =
      stickyHeader === undefined
        ? { type: 'round_robin' as const }
        : { type: 'sticky_sessions' as const, header: stickyHeader };
    this.#routes.push({
      prefix,
      cluster,
      authorization,
      balancer,
      ...(sessionIdleTimeoutMs === undefined ? {} : { session_idle_timeout_ms: sessionIdleTimeoutMs }),
    });
    return this;
  }

  /** The `session_store` section (absent by default: the gateway's in-memory store). */
  sessionStore(store: GatewayYamlSessionStore): this {
    this.#sessionStore = { ...store };
    return this;
  }

  staticCluster(name: string, address: string): this {
    this.#clusters[name] = { type: 'static', address };
    return this;
  }

  dynamicCluster(
    name: string,
    discovererUrl: string,
    discovererIntervalMs: number,
    { token, ...extras }: DynamicClusterOptions = {},
  ): this {
    this.#clusters[name] = {
      type: 'dynamic',
      discoverer_url: discovererUrl,
      discoverer_interval_ms: discovererIntervalMs,
      ...(token === undefined
        ? {}
        : 'tokenFile' in token
          ? { discoverer_token_file: token.tokenFile }
          : { discoverer_token_env: token.tokenEnv }),
      ...structuredClone(extras),
    };
    return this;
  }

  document(): GatewayYamlDocument {
    return structuredClone({
      default: { action: 'error' },
      routes: this.#routes,
      clusters: this.#clusters,
      ...(this.#sessionStore === undefined ? {} : { session_store: this.#sessionStore }),
    });
  }

  toString(): string {
    return stringify(this.document());
  }
}

interface ReferenceGatewayOptions {
  /** `host:port` of the auth service (static cluster `myauth`). */
  readonly authAddress: string;
  /** Base URL the gateway polls for workers (dynamic cluster `my_service`). */
  readonly discovererUrl: string;
  readonly discovererIntervalMs: number;
  /** The discoverer token of `my_service`, when the discoverer wants one. */
  readonly discovererToken?: DiscovererTokenOption;
  /** `health_check` / `outlier_detection` of the `my_service` cluster. */
  readonly workerCluster?: DynamicClusterExtras;
}

/** The session header of the reference topology's sticky route. */
const SESSION_HEADER = 'session-id';

/**
 * The reference topology's gateway config (REFERENCE.md 6.2) with the addresses of one stack:
 * Login to the static `myauth` without a token, round robin; MyService* to the discovered
 * `my_service` with a JWT, exclusive sticky on `session-id`. More routes and clusters may be added.
 */
export function referenceGatewayYaml(options: ReferenceGatewayOptions): GatewayYaml {
  return new GatewayYaml()
    .route('/my_service.MyServiceAPI/Login', 'myauth')
    .route('/my_service.MyServiceAPI/MyService', 'my_service', {
      authorization: 'required',
      stickyHeader: SESSION_HEADER,
    })
    .staticCluster('myauth', options.authAddress)
    .dynamicCluster('my_service', options.discovererUrl, options.discovererIntervalMs, {
      ...options.workerCluster,
      ...(options.discovererToken === undefined ? {} : { token: options.discovererToken }),
    });
}
