import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DiscoveredInstance, parseInstances } from '../harness/discoverer-client.js';

export interface RecordedList {
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly instances: readonly DiscoveredInstance[];
}

export interface RecordedUnregister {
  readonly at: number;
  readonly instanceId: string;
}

/**
 * A transparent HTTP relay in front of a discoverer, used only by the gateway, that remembers what
 * the gateway was told (every instance list) and what it did (every unregister). The fault suites
 * assert on both: "the gateway has applied a list naming X" without calling through the gateway
 * (which would bind a worker), and "the gateway never unregistered a live instance". When the
 * discoverer is down the relay drops the connection, which the gateway sees as the outage it is.
 */
export class DiscoveryRecorder {
  readonly lists: RecordedList[] = [];
  readonly unregisters: RecordedUnregister[] = [];
  /** Start times of list requests the discoverer did not answer with a list (down, 5xx). */
  readonly failedLists: number[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Relays to `upstreamUrl()`, read on every request (the discoverer may move). */
  static async start(upstreamUrl: () => string): Promise<DiscoveryRecorder> {
    let recorder: DiscoveryRecorder | undefined;
    const server = createServer((incoming, outgoing) => {
      const startedAt = Date.now();
      const upstream = new URL(upstreamUrl());
      const path = incoming.url ?? '/';
      const isList = incoming.method === 'GET' && path.startsWith('/v1/instances');
      if (incoming.method === 'POST' && path.startsWith('/v1/unregister/')) {
        recorder?.unregisters.push({
          at: startedAt,
          instanceId: decodeURIComponent(path.slice('/v1/unregister/'.length)),
        });
      }
      const relay = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: incoming.method,
          path,
          headers: incoming.headers,
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            const body = Buffer.concat(chunks);
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            outgoing.end(body, () => {
              if (!isList) return;
              try {
                const instances = parseInstances(answer.statusCode ?? 0, body.toString());
                recorder?.lists.push({ startedAt, finishedAt: Date.now(), instances });
              } catch {
                // An error answer leaves the gateway's list unchanged.
                recorder?.failedLists.push(startedAt);
              }
            });
          });
        },
      );
      relay.on('error', () => {
        if (isList) recorder?.failedLists.push(startedAt);
        outgoing.destroy();
      });
      incoming.pipe(relay);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    recorder = new DiscoveryRecorder(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return recorder;
  }

  /**
   * True once a list fetched after `since` satisfies `accept` AND a later fetch has started: refreshes
   * do not overlap, so the gateway has finished applying that list.
   */
  hasApplied(since: number, accept: (instances: readonly DiscoveredInstance[]) => boolean): boolean {
    const index = this.lists.findIndex((list) => list.startedAt >= since && accept(list.instances));
    if (index === -1) return false;
    const applied = this.lists[index] as RecordedList;
    return this.lists.slice(index + 1).some((later) => later.startedAt >= applied.finishedAt);
  }

  /** List requests that failed since `since`. */
  failuresSince(since: number): number {
    return this.failedLists.filter((at) => at >= since).length;
  }

  /** Unregisters of `instanceId` the gateway sent after `since`. */
  unregistersOf(instanceId: string, since = 0): RecordedUnregister[] {
    return this.unregisters.filter((u) => u.instanceId === instanceId && u.at >= since);
  }

  describeLast(): string {
    const last = this.lists.at(-1);
    return last === undefined
      ? 'the gateway has fetched nothing yet'
      : `last list served to the gateway: [${last.instances.map((i) => `${i.instance_id}@${i.port}`).join(', ')}]`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
