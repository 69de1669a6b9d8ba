import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DiscoveredInstance {
  readonly instance_id: string;
  readonly ipv4: string;
  readonly port: number;
}

export interface BenchDiscoverer {
  readonly url: string;
  /** Instance ids the gateway unregistered (its failure handling), in order. */
  readonly unregistered: readonly string[];
  close(): Promise<void>;
}

/**
 * The smallest discoverer the gateway's dynamic cluster accepts (REFERENCE.md 4.4, 4.5): a fixed
 * instance list on GET /v1/instances, POST /v1/unregister/:id removes one. No Redis: the bench
 * measures the gateway, not the registry.
 */
export async function startBenchDiscoverer(initial: readonly DiscoveredInstance[]): Promise<BenchDiscoverer> {
  let instances = [...initial];
  let body = JSON.stringify({ instances });
  const unregistered: string[] = [];
  const server = http.createServer((request, response) => {
    const url = request.url ?? '/';
    const send = (status: number, payload: string) => {
      response.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
      });
      response.end(payload);
    };
    if (request.method === 'GET' && url === '/v1/instances') {
      send(200, body);
      return;
    }
    const unregister = /^\/v1\/unregister\/([^/]+)$/.exec(url);
    if (request.method === 'POST' && unregister !== null) {
      const id = decodeURIComponent(unregister[1] as string);
      unregistered.push(id);
      instances = instances.filter((instance) => instance.instance_id !== id);
      body = JSON.stringify({ instances });
      send(200, JSON.stringify({ status: 'ok' }));
      request.resume();
      return;
    }
    send(404, JSON.stringify({ error: { code: 'entity_not_found', message: 'Entity not found' } }));
    request.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    unregistered,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `count` instances named `echo-00000`... spread over `ports` in turn (all on 127.0.0.1). */
export function benchInstances(count: number, ports: readonly number[]): DiscoveredInstance[] {
  return Array.from({ length: count }, (_, i) => ({
    instance_id: `echo-${String(i).padStart(5, '0')}`,
    ipv4: '127.0.0.1',
    port: ports[i % ports.length] as number,
  }));
}
