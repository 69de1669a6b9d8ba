import { serveGateway } from '../shared/serve-gateway.js';
import { checkWeightedClusters, WeightedClusterFields, weightedClusterType } from './weighted-cluster.js';

/** The gateway with a `type: weighted` cluster type: the gateway's own environment and YAML. */
await serveGateway(
  (config) => {
    checkWeightedClusters(config.clusters);
    return { clusterTypes: { weighted: weightedClusterType } };
  },
  { clusterTypes: { weighted: WeightedClusterFields } },
);
