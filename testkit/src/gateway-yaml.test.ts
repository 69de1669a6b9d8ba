import { describe, expect, it } from 'vitest';
import { GatewayYaml, referenceGatewayYaml } from './gateway-yaml.js';

describe('referenceGatewayYaml', () => {
  it('writes the reference topology (REFERENCE.md 6.2) with the given addresses', () => {
    const yaml = referenceGatewayYaml({
      authAddress: 'myauth:5001',
      discovererUrl: 'http://mydiscoverer:8080',
      discovererIntervalMs: 5000,
    });
    expect(yaml.toString()).toBe(
      [
        'default:',
        '  action: error',
        'routes:',
        '  - prefix: /my_service.MyServiceAPI/Login',
        '    cluster: myauth',
        '    authorization: none',
        '    balancer:',
        '      type: round_robin',
        '  - prefix: /my_service.MyServiceAPI/MyService',
        '    cluster: my_service',
        '    authorization: required',
        '    balancer:',
        '      type: sticky_sessions',
        '      header: session-id',
        'clusters:',
        '  myauth:',
        '    type: static',
        '    address: myauth:5001',
        '  my_service:',
        '    type: dynamic',
        '    discoverer_url: http://mydiscoverer:8080',
        '    discoverer_interval_ms: 5000',
        '',
      ].join('\n'),
    );
  });
});

describe('GatewayYaml', () => {
  it('adds routes and clusters in order, and hands out documents a test may break', () => {
    const yaml = new GatewayYaml().route('/a/', 'a').staticCluster('a', '127.0.0.1:1');
    const broken = yaml.document();
    broken.routes.push({
      prefix: '/b/',
      cluster: 'b',
      authorization: 'none',
      balancer: { type: 'round_robin' },
    });
    expect(yaml.document().routes).toHaveLength(1);
    expect(yaml.toString()).toBe(
      [
        'default:',
        '  action: error',
        'routes:',
        '  - prefix: /a/',
        '    cluster: a',
        '    authorization: none',
        '    balancer:',
        '      type: round_robin',
        'clusters:',
        '  a:',
        '    type: static',
        '    address: 127.0.0.1:1',
        '',
      ].join('\n'),
    );
  });

  it('writes a session store and a route idle timeout when asked', () => {
    const yaml = new GatewayYaml()
      .route('/a/', 'a', { stickyHeader: 'session-id', sessionIdleTimeoutMs: 30_000 })
      .dynamicCluster('a', 'http://127.0.0.1:1', 100)
      .sessionStore({ type: 'redis', url: 'redis://127.0.0.1:6380' });
    const document = yaml.document();
    expect(document.session_store).toEqual({ type: 'redis', url: 'redis://127.0.0.1:6380' });
    expect(document.routes[0]?.session_idle_timeout_ms).toBe(30_000);
    expect(yaml.toString()).toContain('session_store:\n  type: redis\n  url: redis://127.0.0.1:6380\n');
    expect(new GatewayYaml().document()).not.toHaveProperty('session_store');
  });
});

describe('GatewayYaml dynamic cluster extras', () => {
  it('writes health_check and outlier_detection of a dynamic cluster, and the reference worker cluster', () => {
    const extras = {
      health_check: { interval_ms: 1000, unhealthy_threshold: 2 },
      outlier_detection: { consecutive_failures: 3 },
    };
    const yaml = new GatewayYaml().dynamicCluster('w', 'http://d:1', 100, extras);
    extras.health_check.interval_ms = 5;
    expect(yaml.document().clusters.w).toEqual({
      type: 'dynamic',
      discoverer_url: 'http://d:1',
      discoverer_interval_ms: 100,
      health_check: { interval_ms: 1000, unhealthy_threshold: 2 },
      outlier_detection: { consecutive_failures: 3 },
    });
    const reference = referenceGatewayYaml({
      authAddress: 'a:1',
      discovererUrl: 'http://d:1',
      discovererIntervalMs: 100,
      workerCluster: { health_check: { interval_ms: 500 } },
    });
    expect(reference.document().clusters.my_service).toMatchObject({ health_check: { interval_ms: 500 } });
  });
});
