import { AggregatorRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { GatewayMetrics } from './metrics.js';

const ECHO = 'grpc_service="my_service.MyServiceAPI",grpc_method="MyServiceEcho"';

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

describe('GatewayMetrics', () => {
  it('exposes the counts of a method in the go-grpc-prometheus names', async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    const echo = metrics.method('/my_service.MyServiceAPI/MyServiceEcho');
    expect(metrics.method('/my_service.MyServiceAPI/MyServiceEcho')).toBe(echo);
    for (const [code, seconds] of [
      [0, 0.003],
      [0, 0.02],
      [14, 0.7],
    ] as const) {
      echo.started();
      echo.handled(code, seconds, 2, 3);
    }
    const text = lines(await metrics.registry.metrics());
    expect(text).toContain(`grpc_server_started_total{${ECHO}} 3`);
    expect(text).toContain(`grpc_server_handled_total{${ECHO},grpc_code="OK"} 2`);
    expect(text).toContain(`grpc_server_handled_total{${ECHO},grpc_code="Unavailable"} 1`);
    // Only the codes a method ended with.
    expect(text.filter((line) => line.startsWith('grpc_server_handled_total'))).toHaveLength(2);
    expect(text).toContain(`grpc_server_msg_received_total{${ECHO}} 6`);
    expect(text).toContain(`grpc_server_msg_sent_total{${ECHO}} 9`);
  });

  it('keeps the handling histogram cumulative, with +Inf, sum and count', async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    const echo = metrics.method('/my_service.MyServiceAPI/MyServiceEcho');
    // On a bound counts in its bucket (le is "less or equal"); past the last bound only in +Inf.
    for (const seconds of [0.005, 0.006, 0.3, 42]) echo.handled(0, seconds, 1, 1);
    const buckets = Object.fromEntries(
      lines(await metrics.registry.metrics())
        .filter((line) => line.startsWith('grpc_server_handling_seconds_bucket'))
        .map((line) => [/le="([^"]+)"/.exec(line)?.[1], Number(line.split(' ')[1])]),
    );
    expect(buckets).toEqual({
      '0.005': 1,
      '0.01': 2,
      '0.025': 2,
      '0.05': 2,
      '0.1': 2,
      '0.25': 2,
      '0.5': 3,
      '1': 3,
      '2.5': 3,
      '5': 3,
      '10': 3,
      '+Inf': 4,
    });
    const text = lines(await metrics.registry.metrics());
    expect(text).toContain(`grpc_server_handling_seconds_count{${ECHO}} 4`);
    const sum = text.find((line) => line.startsWith(`grpc_server_handling_seconds_sum{${ECHO}}`));
    expect(Number(sum?.split(' ')[1])).toBeCloseTo(42.311, 6);
  });

  it('counts unrouted calls as one series and bounds the method labels', async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    metrics.method(undefined).handled(12, 0, 0, 0);
    metrics.method(undefined).handled(12, 0, 0, 0);
    for (let i = 0; i < 1000; i++) metrics.method(`/pkg.Service/M${i}`);
    const overflow = metrics.method('/pkg.Service/OneTooMany');
    expect(metrics.method('no-service-part')).toBe(overflow);
    overflow.handled(0, 0, 0, 0);
    const text = lines(await metrics.registry.metrics());
    expect(text).toContain(
      'grpc_server_handled_total{grpc_service="unrouted",grpc_method="unrouted",grpc_code="Unimplemented"} 2',
    );
    expect(text).toContain(
      'grpc_server_handled_total{grpc_service="other",grpc_method="other",grpc_code="OK"} 1',
    );
    expect(text.join('\n')).not.toContain('OneTooMany');
  });

  it('counts upstream requests, retries, connect failures and transfers per cluster', async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    const workers = metrics.upstream('workers');
    expect(metrics.upstream('workers')).toBe(workers);
    workers.request();
    workers.request();
    workers.retry();
    workers.connectFailure();
    workers.transfer('transferred');
    workers.transfer('not_transferable');
    workers.transfer('not_transferable');
    metrics.upstream('auth').request();
    const text = lines(await metrics.registry.metrics());
    expect(text).toEqual(
      expect.arrayContaining([
        'gateway_upstream_requests_total{cluster="workers"} 2',
        'gateway_upstream_requests_total{cluster="auth"} 1',
        'gateway_upstream_retries_total{cluster="workers"} 1',
        'gateway_upstream_connect_failures_total{cluster="workers"} 1',
        'gateway_session_transfers_total{cluster="workers",outcome="transferred"} 1',
        'gateway_session_transfers_total{cluster="workers",outcome="not_transferable"} 2',
      ]),
    );
    // A series shows once used.
    expect(text.some((line) => line.startsWith('gateway_upstream_retries_total{cluster="auth"}'))).toBe(
      false,
    );
  });

  it('sums the workers of GATEWAY_WORKERS through prom-client aggregation, histograms included', async () => {
    const workers = [
      new GatewayMetrics({ processMetrics: false }),
      new GatewayMetrics({ processMetrics: false }),
    ];
    for (const [i, metrics] of workers.entries()) {
      const echo = metrics.method('/my_service.MyServiceAPI/MyServiceEcho');
      echo.started();
      echo.handled(0, 0.002 * (i + 1), 1, 1);
      metrics.upstream('workers').request();
    }
    const aggregated = AggregatorRegistry.aggregate(
      await Promise.all(workers.map((metrics) => metrics.registry.getMetricsAsJSON())),
    );
    const text = lines(await aggregated.metrics());
    expect(text).toContain(`grpc_server_started_total{${ECHO}} 2`);
    expect(text).toContain(`grpc_server_handled_total{${ECHO},grpc_code="OK"} 2`);
    expect(text).toContain(`grpc_server_handling_seconds_bucket{${ECHO},le="0.005"} 2`);
    expect(text).toContain(`grpc_server_handling_seconds_count{${ECHO}} 2`);
    expect(text).toContain('gateway_upstream_requests_total{cluster="workers"} 2');
  });
});
