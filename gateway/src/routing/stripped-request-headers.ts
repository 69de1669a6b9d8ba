import type { RouteConfig } from '../config/types.js';

/**
 * The request headers a route's backend does not get (REFERENCE.md 8.20: the reference forwards the
 * client's `authorization` to every backend): the route's `strip_request_headers`, plus
 * `authorization` on a route with `authorization: none` unless it sets `forward_authorization: true`.
 * A route that checks the token forwards it, as the reference's workers verify it again
 * (REFERENCE.md 5.4). The synthetic default route (`default.action: use_cluster`) is an
 * `authorization: none` route without `forward_authorization`, so it strips `authorization` too.
 * `undefined` when nothing is stripped, so such a route's calls pay nothing.
 */
export function strippedRequestHeaders(
  route: Pick<RouteConfig, 'authorization' | 'stripRequestHeaders' | 'forwardAuthorization'>,
): ReadonlySet<string> | undefined {
  const names = new Set(route.stripRequestHeaders);
  if (route.authorization === 'none' && route.forwardAuthorization !== true) names.add('authorization');
  return names.size === 0 ? undefined : names;
}
