import { defaultBalancer } from '@stickygw/gateway';
import { serveGateway } from '../shared/serve-gateway.js';
import { LeastRequestsBalancer } from './least-requests-balancer.js';

/**
 * The gateway with least-requests balancing on every `round_robin` route; sticky routes keep the
 * exclusive sticky balancer. The gateway's own environment and YAML.
 */
await serveGateway(() => ({
  createBalancer: (route, cluster, sessions) =>
    route.balancer.type === 'round_robin'
      ? new LeastRequestsBalancer(cluster)
      : defaultBalancer(route, cluster, sessions),
}));
