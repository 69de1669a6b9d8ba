import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ListedInstance {
  instance_id: string;
  ipv4: string;
  port: number;
}

/**
 * A tiny real HTTP discoverer for dynamic clusters: serves `GET /v1/instances` from a list the test
 * controls, and records (and applies, as the real one does) `POST /v1/unregister/:id`.
 */
export class FakeDiscoverer {
  instances: ListedInstance[] = [];
  /** When set, `/v1/instances` answers this status with an error body. */
  failWith: number | undefined;
  /** When set, `/v1/instances` answers 200 with this raw body. */
  rawBody: string | undefined;
  readonly unregistered: string[] = [];
  listRequests = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  private constructor() {
    this.server = createServer((request, response) => this.handle(request, response));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(port = 0): Promise<FakeDiscoverer> {
    const discoverer = new FakeDiscoverer();
    discoverer.server.listen(port, '127.0.0.1');
    await once(discoverer.server, 'listening');
    discoverer.port = (discoverer.server.address() as AddressInfo).port;
    return discoverer;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Lists backends by name at 127.0.0.1. */
  list(...backends: { name: string; port: number }[]): void {
    this.instances = backends.map((b) => ({ instance_id: b.name, ipv4: '127.0.0.1', port: b.port }));
  }

  stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = request.url ?? '';
    if (request.method === 'GET' && url === '/v1/instances') {
      this.listRequests++;
      if (this.failWith !== undefined) {
        response.writeHead(this.failWith, { 'content-type': 'application/json' });
        response.end('{"code":"internal_server_error","message":"boom"}');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(this.rawBody ?? JSON.stringify({ instances: this.instances }));
      return;
    }
    if (request.method === 'POST' && url.startsWith('/v1/unregister/')) {
      const id = decodeURIComponent(url.slice('/v1/unregister/'.length));
      this.unregistered.push(id);
      this.instances = this.instances.filter((instance) => instance.instance_id !== id);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"status":"ok"}');
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"code":"not_found","message":"not found"}');
  }
}
