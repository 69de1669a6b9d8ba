import type { DiscoveredInstance, DiscovererClient } from './discoverer-client.js';

export interface HttpDiscovererClientOptions {
  /** Per-request limit (REFERENCE.md 6.8: 5 s). */
  readonly timeoutMs?: number;
  /** Largest accepted `/v1/instances` body. */
  readonly maxBodyBytes?: number;
  /** Told how many list entries were skipped as malformed. */
  readonly onInvalidEntries?: (count: number, example: string) => void;
  /** Sent as `Authorization: Bearer <token>` (a discoverer with `DISCOVERER_TOKEN`/`DISCOVERER_READ_TOKEN`). */
  readonly token?: string;
  /** Told once when the discoverer answers 401, and again after a request was accepted in between. */
  readonly onUnauthorized?: (operation: 'list' | 'unregister') => void;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_INSTANCE_ID_LENGTH = 512;

/**
 * The reference discoverer's HTTP API (REFERENCE.md 4.4, 4.5, 6.8): `GET <url>/v1/instances` →
 * `200 {"instances":[{instance_id, ipv4, port}]}` (extra properties ignored), 404 = empty list (the
 * reference's empty-registry quirk); `POST <url>/v1/unregister/<id>`.
 */
export class HttpDiscovererClient implements DiscovererClient {
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly headers: Record<string, string>;
  private refusedReported = false;

  constructor(
    /** Base URL without a trailing slash. */
    private readonly baseUrl: string,
    private readonly options: HttpDiscovererClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.headers = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  }

  /** A 401 throws (the list is kept, the unregister not done); reported once until a request passes. */
  private async checkAuthorized(response: Response, operation: 'list' | 'unregister'): Promise<void> {
    if (response.status !== 401) {
      this.refusedReported = false;
      return;
    }
    await response.body?.cancel();
    if (!this.refusedReported) {
      this.refusedReported = true;
      this.options.onUnauthorized?.(operation);
    }
    throw new Error(`discoverer refused the token (HTTP 401 on ${operation})`);
  }

  async fetchInstances(): Promise<readonly DiscoveredInstance[]> {
    const response = await fetch(`${this.baseUrl}/v1/instances`, {
      headers: this.headers,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await this.checkAuthorized(response, 'list');
    if (response.status === 404) {
      await response.body?.cancel();
      return [];
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`discoverer answered HTTP ${response.status}`);
    }
    const text = await readCapped(response, this.maxBodyBytes);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error('discoverer response is not valid JSON');
    }
    const list = (body as { instances?: unknown } | null)?.instances;
    if (!Array.isArray(list)) throw new Error('discoverer response missing instances field');
    const instances: DiscoveredInstance[] = [];
    let invalid = 0;
    let example = '';
    for (const entry of list) {
      const instance = toInstance(entry);
      if (instance === undefined) {
        if (invalid++ === 0) example = describeEntry(entry);
      } else {
        instances.push(instance);
      }
    }
    if (invalid > 0) this.options.onInvalidEntries?.(invalid, example);
    return instances;
  }

  async unregister(instanceId: string): Promise<void> {
    const response = await fetch(`${this.baseUrl}/v1/unregister/${encodeURIComponent(instanceId)}`, {
      method: 'POST',
      headers: this.headers,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await this.checkAuthorized(response, 'unregister');
    await response.body?.cancel();
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`discoverer response larger than ${maxBytes} bytes`);
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`discoverer response larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A usable list entry, or undefined. Ids must be printable and not a dot segment (`.`/`..` cannot be
 * put in the unregister URL path: URL parsing would resolve them); the port must be 1..65535.
 */
function toInstance(entry: unknown): DiscoveredInstance | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { instance_id: id, ipv4: host, port } = entry as Record<string, unknown>;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_INSTANCE_ID_LENGTH) return undefined;
  if (id === '.' || id === '..' || hasControlCharacter(id)) return undefined;
  if (typeof host !== 'string' || host.length === 0 || host.length > 255 || hasControlCharacter(host))
    return undefined;
  if (host.includes('/') || host.includes(' ') || host.includes('@')) return undefined;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { id, host, port };
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function describeEntry(entry: unknown): string {
  const text = JSON.stringify(entry) ?? String(entry);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
