/** One upstream instance: a discovered worker, or the single address of a static cluster. */
export interface Endpoint {
  /** Instance id (discoverer `instance_id`; the cluster id for a static cluster). */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** `host:port`, with IPv6 hosts in brackets. */
  readonly authority: string;
}

export function makeEndpoint(id: string, host: string, port: number): Endpoint {
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return Object.freeze({ id, host, port, authority });
}

/** Splits a config `host:port` (or `[v6]:port`) address. The config loader has validated its shape. */
export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: Number(address.slice(colon + 1)) };
}
