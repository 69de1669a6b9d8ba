import { describe, expect, it } from 'vitest';
import { parseGatewayYaml } from '../config/load-config.js';
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import { RouteTable } from './route-table.js';

const route = (prefix: string, cluster: string, extra: Partial<RouteConfig> = {}): RouteConfig => ({
  prefix,
  cluster,
  authorization: 'none',
  balancer: { type: 'round_robin' },
  ...extra,
});

function table(
  routes: RouteConfig[],
  defaults: GatewayConfig['default'] = { action: 'error' },
  maxCachedPaths?: number,
) {
  return RouteTable.fromConfig({ routes, default: defaults }, maxCachedPaths ? { maxCachedPaths } : {});
}

describe('RouteTable', () => {
  it('picks the longest matching prefix, whatever the file order', () => {
    const routes = table([
      route('/pkg.Svc/', 'short'),
      route('/pkg.Svc/Method', 'long'),
      route('/pkg', 'shortest'),
    ]);
    expect(routes.match('/pkg.Svc/MethodTwo')?.cluster).toBe('long');
    expect(routes.match('/pkg.Svc/Other')?.cluster).toBe('short');
    expect(routes.match('/pkg.Other/X')?.cluster).toBe('shortest');
    expect(routes.match('/pkg.Svc/Method')).toMatchObject({ cluster: 'long', isDefault: false });
  });

  it('routes the compose config as REFERENCE.md 6.4 describes', () => {
    const config = parseGatewayYaml(`
routes:
  - { prefix: /my_service.MyServiceAPI/Login, cluster: myauth }
  - { prefix: /my_service.MyServiceAPI/MyService, cluster: my_service, authorization: required,
      balancer: { type: sticky_sessions, header: session-id } }
clusters:
  myauth: { type: static, address: "myauth:5001" }
  my_service: { type: dynamic, discoverer_url: "http://d:8080", discoverer_interval_ms: 5000 }
`);
    const routes = RouteTable.fromConfig(config);
    for (const method of ['MyServiceEcho', 'MyServiceSubscribe', 'MyServiceShutdown', 'MyServiceAnything']) {
      expect(routes.match(`/my_service.MyServiceAPI/${method}`)).toMatchObject({
        cluster: 'my_service',
        authorization: 'required',
        balancer: { type: 'sticky_sessions', header: 'session-id' },
      });
    }
    expect(routes.match('/my_service.MyServiceAPI/Login')?.cluster).toBe('myauth');
    expect(routes.match('/grpc.health.v1.Health/Check')).toBeUndefined();
  });

  it('default action error: no match is undefined (method not routed)', () => {
    const routes = table([route('/a/', 'a')]);
    expect(routes.match('/b/X')).toBeUndefined();
    expect(routes.match('/a')).toBeUndefined();
    expect(routes.match('')).toBeUndefined();
  });

  it('default action use_cluster: a synthetic none/round_robin route, even for a sticky-looking setup', () => {
    const routes = table([route('/a/', 'a', { authorization: 'required' })], {
      action: 'use_cluster',
      cluster: 'fallback',
    });
    const fallback = routes.match('/other.Svc/Call');
    expect(fallback).toEqual({
      prefix: '',
      cluster: 'fallback',
      authorization: 'none',
      balancer: { type: 'round_robin' },
      isDefault: true,
    });
    expect(Object.isFrozen(fallback)).toBe(true);
    expect(routes.match('/another/Call')).toBe(fallback);
    expect(routes.match('/a/X')).toMatchObject({ cluster: 'a', authorization: 'required', isDefault: false });
  });

  it('works with no routes at all', () => {
    expect(table([]).match('/x/Y')).toBeUndefined();
    expect(table([], { action: 'use_cluster', cluster: 'c' }).match('/x/Y')?.isDefault).toBe(true);
  });

  it('returns the same frozen route object on every match (cached or not)', () => {
    const routes = table([route('/a/', 'a')]);
    const first = routes.match('/a/X');
    expect(routes.match('/a/X')).toBe(first);
    expect(routes.match('/a/Y')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('bounds the path cache: routed paths evict the oldest, junk paths stop being cached when full', () => {
    const routes = table([route('/a/', 'a')], { action: 'error' }, 8);
    for (let i = 0; i < 100; i++) {
      expect(routes.match(`/junk/${i}`)).toBeUndefined();
    }
    expect(routes.cachedPathCount).toBe(8);
    for (let i = 0; i < 100; i++) {
      expect(routes.match(`/a/${i}`)?.cluster).toBe('a');
    }
    expect(routes.cachedPathCount).toBe(8);
    // Once the cache holds only routed paths, unrouted ones are no longer added but still answered.
    expect(routes.match('/junk/new')).toBeUndefined();
    expect(routes.cachedPathCount).toBe(8);
    expect(routes.match('/a/99')?.cluster).toBe('a');
  });

  it('keeps the default cache bound at 1,024 paths', () => {
    const routes = table([route('/', 'all')]);
    for (let i = 0; i < 5000; i++) {
      routes.match(`/pkg.Svc/M${i}`);
    }
    expect(routes.cachedPathCount).toBe(1024);
  });

  it('refuses a cache bound below 1', () => {
    expect(() => table([], { action: 'error' }, -1)).toThrow(RangeError);
  });
});
