import { dirname } from 'node:path';
import { serveGateway } from '../shared/serve-gateway.js';
import { FileClusterFields, fileClusterType } from './file-cluster-type.js';

/** The gateway with a `type: file` cluster type: the gateway's own environment and YAML. */
await serveGateway((config) => ({ clusterTypes: { file: fileClusterType(dirname(config.configPath)) } }), {
  clusterTypes: { file: FileClusterFields },
});
