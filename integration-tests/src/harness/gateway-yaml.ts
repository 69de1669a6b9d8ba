import { stringify } from 'yaml';

export interface GatewayYamlOptions {
  /** `host:port` of the auth service (static cluster `myauth`). */
  readonly authAddress: string;
  /** Base URL the gateway polls for workers (dynamic cluster `my_service`). */
  readonly discovererUrl: string;
  readonly discovererIntervalMs: number;
}

/** The reference topology's gateway config (REFERENCE.md 6.2) with the addresses of one stack. */
export function gatewayYaml(options: GatewayYamlOptions): string {
  return stringify({
    default: { action: 'error' },
    routes: [
      {
        prefix: '/my_service.MyServiceAPI/Login',
        cluster: 'myauth',
        authorization: 'none',
        balancer: { type: 'round_robin' },
      },
      {
        prefix: '/my_service.MyServiceAPI/MyService',
        cluster: 'my_service',
        authorization: 'required',
        balancer: { type: 'sticky_sessions', header: 'session-id' },
      },
    ],
    clusters: {
      myauth: { type: 'static', address: options.authAddress },
      my_service: {
        type: 'dynamic',
        discoverer_url: options.discovererUrl,
        discoverer_interval_ms: options.discovererIntervalMs,
      },
    },
  });
}
