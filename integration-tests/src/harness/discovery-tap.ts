import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseInstances } from './discoverer-client.js';

interface Fetch {
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly instanceIds: readonly string[];
}

/**
 * A transparent HTTP relay between the gateway and the discoverer that remembers which instance
 * lists the gateway has been served. It answers the one question the harness cannot ask the gateway
 * without side effects — "has the gateway seen these workers?" — because every probe call through
 * the gateway would bind a worker to the probe's session. Only the gateway talks to the tap.
 */
export class StartedDiscoveryTap {
  readonly #fetches: Fetch[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Relays every request to `upstreamUrl` (`http://127.0.0.1:<port>`), on `port` (0 = any). */
  static async start(upstreamUrl: string, port = 0): Promise<StartedDiscoveryTap> {
    const upstream = new URL(upstreamUrl);
    let tap: StartedDiscoveryTap | undefined;
    const server = createServer((incoming, outgoing) => {
      const startedAt = Date.now();
      const relay = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            const body = Buffer.concat(chunks);
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            outgoing.end(body, () => {
              if (incoming.method === 'GET' && incoming.url?.startsWith('/v1/instances')) {
                tap?.record(startedAt, answer.statusCode ?? 0, body.toString());
              }
            });
          });
        },
      );
      relay.on('error', () => {
        // Seen by the gateway exactly like a discoverer that is down.
        outgoing.destroy();
      });
      incoming.pipe(relay);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const { port: bound } = server.address() as AddressInfo;
    tap = new StartedDiscoveryTap(server, `http://127.0.0.1:${bound}`);
    return tap;
  }

  private record(startedAt: number, status: number, body: string): void {
    try {
      const ids = parseInstances(status, body).map((instance) => instance.instance_id);
      this.#fetches.push({ startedAt, finishedAt: Date.now(), instanceIds: ids });
    } catch {
      // An error answer leaves the gateway's list unchanged, so it proves nothing.
    }
  }

  /**
   * True once the gateway has been served a list containing every id in `ids` AND has started a
   * later fetch, which proves it finished applying that list (refreshes do not overlap).
   */
  hasServed(ids: readonly string[], since = 0): boolean {
    const fetches = this.#fetches;
    const index = fetches.findIndex(
      (fetch) => fetch.startedAt >= since && ids.every((id) => fetch.instanceIds.includes(id)),
    );
    if (index === -1) return false;
    const served = fetches[index] as Fetch;
    return fetches.slice(index + 1).some((later) => later.startedAt >= served.finishedAt);
  }

  /** A short account of the last fetch, for timeout messages. */
  lastFetch(): string {
    const last = this.#fetches.at(-1);
    return last
      ? `last list served to the gateway: [${last.instanceIds.join(', ')}]`
      : 'the gateway has fetched nothing yet';
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
