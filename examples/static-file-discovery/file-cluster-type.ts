import { isAbsolute, resolve } from 'node:path';
import { type ClusterFactory, DynamicCluster, Type } from '@stickygw/gateway';
import { FileDiscovererClient } from './file-discoverer-client.js';

/** The YAML fields of a `type: file` cluster besides `type` (checked by the gateway's loader). */
export const FileClusterFields = Type.Object({
  /** The instances file; a relative path is relative to the gateway YAML file's directory. */
  path: Type.String({ minLength: 1 }),
  /** How often the file is read again (ms). */
  refresh_interval_ms: Type.Integer({ minimum: 1, default: 1000 }),
});

/**
 * `type: file`: a gateway DynamicCluster (ejection, retries, transfer, sticky sessions, like
 * `type: dynamic`) whose registry is a file. `configDir` resolves relative paths.
 */
export function fileClusterType(configDir: string): ClusterFactory {
  return (config, context) => {
    if (config.type !== 'extension') throw new Error(`cluster ${config.id}: not a file cluster`);
    const settings = config.settings as { path: string; refresh_interval_ms: number };
    const path = isAbsolute(settings.path) ? settings.path : resolve(configDir, settings.path);
    return new DynamicCluster(
      { id: config.id, discovererIntervalMs: settings.refresh_interval_ms },
      new FileDiscovererClient(path),
      context.logger,
      // As the built-in dynamic type: RETRY_TIMEOUT_MS bounds the opening of each attempt.
      { ...context.upstream, connectTimeoutMs: context.retryTimeoutMs },
    );
  };
}
