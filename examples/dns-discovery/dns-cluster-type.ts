import { type ClusterFactory, DynamicCluster, Type } from '@stickygw/gateway';
import { DnsDiscovererClient } from './dns-discoverer-client.js';

/** The YAML fields of a `type: dns` cluster besides `type` (checked by the gateway's loader). */
export const DnsClusterFields = Type.Object({
  /** The name whose A records are the instances. */
  name: Type.String({ minLength: 1 }),
  /** The port every instance listens on. */
  port: Type.Integer({ minimum: 1, maximum: 65_535 }),
  /** Resolvers (`ip` or `ip:port`); absent: the system's (/etc/resolv.conf). */
  resolvers: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  /** How often the name is resolved again (ms). */
  refresh_interval_ms: Type.Integer({ minimum: 1, default: 5000 }),
});

/** `type: dns`: a gateway DynamicCluster (ejection, retries, transfer) whose registry is DNS. */
export const dnsClusterType: ClusterFactory = (config, context) => {
  if (config.type !== 'extension') throw new Error(`cluster ${config.id}: not a dns cluster`);
  const settings = config.settings as {
    name: string;
    port: number;
    resolvers?: string[];
    refresh_interval_ms: number;
  };
  return new DynamicCluster(
    { id: config.id, discovererIntervalMs: settings.refresh_interval_ms },
    new DnsDiscovererClient(settings.name, settings.port, {
      ...(settings.resolvers === undefined ? {} : { servers: settings.resolvers }),
      timeoutMs: context.retryTimeoutMs,
    }),
    context.logger,
    // As the built-in dynamic type: RETRY_TIMEOUT_MS bounds the opening of each attempt.
    { ...context.upstream, connectTimeoutMs: context.retryTimeoutMs },
  );
};
