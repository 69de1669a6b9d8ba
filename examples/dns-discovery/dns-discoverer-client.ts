import { Resolver } from 'node:dns/promises';
import type { DiscoveredInstance, DiscovererClient } from '@stickygw/gateway';

/** DNS answers that mean "this name has no A records now", a valid empty list, not a failure. */
const EMPTY_ANSWERS = new Set(['ENODATA', 'ENOTFOUND']);

/**
 * Instances from the A records of one name, all on one port (a headless Kubernetes service, a
 * Consul DNS name, a round-robin record). Each address is an instance whose id is `<name>/<ip>`, so
 * a record that changes address is a new instance. `servers` (`ip` or `ip:port`) replace the
 * system's resolvers; `timeoutMs` bounds each query (node retries 4 times within it, then rejects,
 * and the cluster keeps its last list). `unregister` does nothing: DNS is the operator's.
 */
export class DnsDiscovererClient implements DiscovererClient {
  readonly #resolver: Resolver;

  constructor(
    readonly name: string,
    readonly port: number,
    options: { readonly servers?: readonly string[]; readonly timeoutMs?: number } = {},
  ) {
    this.#resolver = new Resolver({ timeout: options.timeoutMs ?? 1000, tries: 2 });
    if (options.servers !== undefined && options.servers.length > 0) {
      this.#resolver.setServers([...options.servers]);
    }
  }

  async fetchInstances(): Promise<readonly DiscoveredInstance[]> {
    let addresses: string[];
    try {
      addresses = await this.#resolver.resolve4(this.name);
    } catch (error) {
      if (EMPTY_ANSWERS.has((error as NodeJS.ErrnoException).code ?? '')) return [];
      throw error;
    }
    return [...addresses].sort().map((ip) => ({ id: `${this.name}/${ip}`, host: ip, port: this.port }));
  }

  unregister(): Promise<void> {
    return Promise.resolve();
  }
}
