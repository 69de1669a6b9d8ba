import type { DiscoveredInstance } from '@stickygw/testkit';

/** `count` instances named `echo-00000`... spread over `ports` in turn (all on 127.0.0.1). */
export function benchInstances(count: number, ports: readonly number[]): DiscoveredInstance[] {
  return Array.from({ length: count }, (_, i) => ({
    instance_id: `echo-${String(i).padStart(5, '0')}`,
    ipv4: '127.0.0.1',
    port: ports[i % ports.length] as number,
  }));
}
