import { serveGateway } from '../shared/serve-gateway.js';
import { DnsClusterFields, dnsClusterType } from './dns-cluster-type.js';

/** The gateway with a `type: dns` cluster type: the gateway's own environment and YAML. */
await serveGateway(() => ({ clusterTypes: { dns: dnsClusterType } }), {
  clusterTypes: { dns: DnsClusterFields },
});
