import type { NetworkInterfaceInfo } from 'node:os';

export type NetworkInterfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/**
 * First non-internal IPv4 address, in the order `os.networkInterfaces()` lists interfaces.
 * Node does not report whether an interface is up or a tunnel (the reference also skips those),
 * which is one reason `DISCOVERABLE_HOST` exists.
 */
export function detectIpv4(interfaces: NetworkInterfaces): string | undefined {
  for (const addresses of Object.values(interfaces)) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return undefined;
}
