import type { GatewayConfig, RouteConfig } from '../config/types.js';

/** A route as the pipeline sees it: a configured route, or the synthetic default one. */
export interface Route extends RouteConfig {
  /**
   * True for the synthetic route of `default.action: use_cluster` (REFERENCE.md 6.4): its
   * `prefix` is `''`, authorization `none` and balancer `round_robin`, whatever the cluster.
   */
  readonly isDefault: boolean;
}

/**
 * Paths are attacker-controlled, so the per-path cache is capped. Paths that hit a configured
 * route may evict the oldest entry once full; default-route and unrouted paths are only cached
 * while there is room, so a flood of junk paths cannot push out the real methods.
 */
const MAX_CACHED_PATHS = 1024;

/**
 * Maps a call's `:path` (`/pkg.Service/Method`) to its route (REFERENCE.md 6.4): the longest
 * configured prefix that is a plain string prefix of the path, else the default route, else
 * `undefined` (the pipeline answers UNIMPLEMENTED `method not routed`). Built once from the
 * frozen config; pure, no I/O. Prefixes are unique (the config rejects duplicates), so the order
 * among equal lengths does not matter; the sort is stable anyway.
 */
export class RouteTable {
  private readonly cache = new Map<string, Route | undefined>();

  private constructor(
    private readonly routes: readonly Route[],
    private readonly fallback: Route | undefined,
    private readonly maxCachedPaths: number,
  ) {}

  static fromConfig(
    config: Pick<GatewayConfig, 'routes' | 'default'>,
    options: { readonly maxCachedPaths?: number } = {},
  ): RouteTable {
    const maxCachedPaths = options.maxCachedPaths ?? MAX_CACHED_PATHS;
    if (!Number.isSafeInteger(maxCachedPaths) || maxCachedPaths < 1) {
      throw new RangeError(`maxCachedPaths must be a positive integer, got ${maxCachedPaths}`);
    }
    const routes = config.routes
      .map((route): Route => Object.freeze({ ...route, isDefault: false }))
      .sort((a, b) => b.prefix.length - a.prefix.length);
    const fallback =
      config.default.action === 'use_cluster'
        ? Object.freeze<Route>({
            prefix: '',
            cluster: config.default.cluster,
            authorization: 'none',
            balancer: Object.freeze({ type: 'round_robin' }),
            isDefault: true,
          })
        : undefined;
    return new RouteTable(Object.freeze(routes), fallback, maxCachedPaths);
  }

  match(path: string): Route | undefined {
    const cached = this.cache.get(path);
    if (cached !== undefined || this.cache.has(path)) {
      return cached;
    }
    const route = this.routes.find((candidate) => path.startsWith(candidate.prefix));
    if (route !== undefined) {
      if (this.cache.size >= this.maxCachedPaths) {
        const oldest = this.cache.keys().next().value as string;
        this.cache.delete(oldest);
      }
      this.cache.set(path, route);
      return route;
    }
    if (this.cache.size < this.maxCachedPaths) {
      this.cache.set(path, this.fallback);
    }
    return this.fallback;
  }

  /** Number of paths currently cached (for tests and metrics). */
  get cachedPathCount(): number {
    return this.cache.size;
  }
}
