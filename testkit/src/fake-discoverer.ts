import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DiscoveredInstance, parseInstances } from './discovered-instance.js';

interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The JSON body parsed, the raw text when it is not JSON, undefined when empty. */
  readonly body: unknown;
  readonly receivedAt: number;
}

/** One instance list answered to `GET /v1/instances`. */
interface RecordedList {
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly instances: readonly DiscoveredInstance[];
}

interface RecordedUnregister {
  readonly at: number;
  readonly instanceId: string;
}

const UNREGISTER_PREFIX = '/v1/unregister/';

/** The reference's error envelope (REFERENCE.md 4.2) for `status`. */
function errorBody(status: number): string {
  const error =
    status === 404
      ? { code: 'entity_not_found', message: 'Entity not found' }
      : status < 500
        ? { code: 'bad_parameter', message: 'invalid request body' }
        : { code: 'internal_server_error', message: 'an internal server error has occurred' };
  return JSON.stringify({ error });
}

function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    // Recorded as text: the assertion will show what arrived.
    return raw;
  }
}

/**
 * A real HTTP server on a free loopback port speaking the discoverer's API (REFERENCE.md 4.3-4.5) as
 * the gateway and the workers use it, recording everything it is asked and answers. Two modes:
 * - {@link FakeDiscoverer.start}: it is the registry. `GET /v1/instances` lists `instances` (set by
 *   the test, added to by `POST /v1/register`), `POST /v1/unregister/:id` removes one.
 * - {@link FakeDiscoverer.relay}: a transparent relay in front of a real discoverer that remembers
 *   what the gateway was told and did, so a test can tell "the gateway has applied a list naming X"
 *   without calling through the gateway (which would bind a worker to the probe's session). When the
 *   discoverer is down the relay drops the connection, which the gateway sees as the outage it is.
 */
export class FakeDiscoverer {
  /** What `GET /v1/instances` lists (registry mode). */
  instances: DiscoveredInstance[] = [];
  /** When set, `GET /v1/instances` answers this status with the error envelope (registry mode). */
  failWith: number | undefined;
  /** When set, `GET /v1/instances` answers 200 with this raw body (registry mode). */
  rawBody: string | undefined;
  readonly requests: RecordedRequest[] = [];
  /** Every list answered, in order. */
  readonly lists: RecordedList[] = [];
  /** Start times of list requests not answered with a list (error status, down, malformed). */
  readonly failedLists: number[] = [];
  readonly unregisters: RecordedUnregister[] = [];
  #statusFor: (index: number, request: RecordedRequest) => number = () => 200;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** A registry listing `instances`, on `port` (default: any free one). */
  static async start(
    options: { instances?: readonly DiscoveredInstance[]; port?: number } = {},
  ): Promise<FakeDiscoverer> {
    const discoverer = await FakeDiscoverer.#listen(options.port ?? 0, (d, req, res, raw) =>
      d.#answer(req, res, raw),
    );
    discoverer.instances = [...(options.instances ?? [])];
    return discoverer;
  }

  /** A recording relay to the discoverer at `upstreamUrl()`, read on every request (it may move). */
  static relay(upstreamUrl: () => string): Promise<FakeDiscoverer> {
    return FakeDiscoverer.#listen(0, (d, req, res, raw) => d.#forward(new URL(upstreamUrl()), req, res, raw));
  }

  static async #listen(
    port: number,
    handle: (discoverer: FakeDiscoverer, req: IncomingMessage, res: ServerResponse, raw: Buffer) => void,
  ): Promise<FakeDiscoverer> {
    let discoverer: FakeDiscoverer | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (discoverer !== undefined) handle(discoverer, req, res, Buffer.concat(chunks));
      });
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    discoverer = new FakeDiscoverer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return discoverer;
  }

  /** Lists backends by name at 127.0.0.1. */
  list(...backends: { name: string; port: number }[]): void {
    this.instances = backends.map((b) => ({ instance_id: b.name, ipv4: '127.0.0.1', port: b.port }));
  }

  /**
   * Status for the n-th request (0-based, any route; registry mode): 200 handles it, another 2xx
   * answers that status with an empty body, anything else the error envelope.
   */
  respondWith(status: (index: number, request: RecordedRequest) => number): void {
    this.#statusFor = status;
  }

  /** `GET /v1/instances` requests so far. */
  get listRequests(): number {
    return this.requests.filter((r) => r.method === 'GET' && r.path === '/v1/instances').length;
  }

  /** Instance ids unregistered, in order. */
  get unregistered(): string[] {
    return this.unregisters.map((u) => u.instanceId);
  }

  /**
   * True once a list answered after `since` satisfies `accept` AND a later list request has started:
   * the gateway's refreshes do not overlap, so it has finished applying that list.
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

  /** Unregisters of `instanceId` received after `since`. */
  unregistersOf(instanceId: string, since = 0): RecordedUnregister[] {
    return this.unregisters.filter((u) => u.instanceId === instanceId && u.at >= since);
  }

  /** A short account of the last list, for timeout messages. */
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

  #record(req: IncomingMessage, raw: Buffer): RecordedRequest {
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '/',
      headers: req.headers,
      body: parseBody(raw.toString('utf8')),
      receivedAt: Date.now(),
    };
    this.requests.push(recorded);
    if (recorded.method === 'POST' && recorded.path.startsWith(UNREGISTER_PREFIX)) {
      const instanceId = decodeURIComponent(recorded.path.slice(UNREGISTER_PREFIX.length));
      this.unregisters.push({ at: recorded.receivedAt, instanceId });
    }
    return recorded;
  }

  /** Remembers what a list request was answered, once the answer is written. */
  #recordList(startedAt: number, status: number, body: string): void {
    try {
      this.lists.push({ startedAt, finishedAt: Date.now(), instances: parseInstances(status, body) });
    } catch {
      // An error answer leaves the gateway's list unchanged.
      this.failedLists.push(startedAt);
    }
  }

  #answer(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const recorded = this.#record(req, raw);
    const send = (status: number, body: string) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body, () => {
        if (isList) this.#recordList(recorded.receivedAt, status, body);
      });
    };
    const isList = recorded.method === 'GET' && recorded.path === '/v1/instances';
    const status = this.#statusFor(this.requests.length - 1, recorded);
    if (status !== 200) {
      send(status, status < 300 ? '' : errorBody(status));
      return;
    }
    if (isList) {
      if (this.failWith !== undefined) send(this.failWith, errorBody(this.failWith));
      else send(200, this.rawBody ?? JSON.stringify({ instances: this.instances }));
      return;
    }
    if (recorded.method === 'POST' && recorded.path === '/v1/register') {
      const { instance_id, ipv4, port } = recorded.body as DiscoveredInstance;
      const others = this.instances.filter((instance) => instance.instance_id !== instance_id);
      this.instances = [...others, { instance_id, ipv4, port }];
      send(200, '');
      return;
    }
    if (recorded.method === 'POST' && recorded.path.startsWith(UNREGISTER_PREFIX)) {
      const id = this.unregisters.at(-1)?.instanceId;
      this.instances = this.instances.filter((instance) => instance.instance_id !== id);
      send(200, '');
      return;
    }
    send(404, errorBody(404));
  }

  #forward(upstream: URL, req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const recorded = this.#record(req, raw);
    const isList = recorded.method === 'GET' && recorded.path.startsWith('/v1/instances');
    const relay = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: recorded.method,
        path: recorded.path,
        headers: req.headers,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(body, () => {
            if (isList) this.#recordList(recorded.receivedAt, answer.statusCode ?? 0, body.toString());
          });
        });
      },
    );
    relay.on('error', () => {
      if (isList) this.failedLists.push(recorded.receivedAt);
      // Seen by the gateway exactly like a discoverer that is down.
      res.destroy();
    });
    relay.end(raw);
  }
}
