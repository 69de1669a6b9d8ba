import { readFile } from 'node:fs/promises';
import type { DiscoveredInstance, DiscovererClient } from '@stickygw/gateway';
import { parse } from 'yaml';

/**
 * Instances from a file the operator (or a deployment tool) edits: JSON when the name ends in
 * `.json`, YAML otherwise, either a list of `{ id, host, port }` or `{ instances: [...] }`.
 *
 * The gateway's DynamicCluster calls `fetchInstances` at start and every refresh interval, so an
 * edit is seen within one interval; a file that cannot be read or holds a bad entry rejects, and the
 * cluster keeps its last good list (a half-written file never empties it). `unregister` leaves the
 * file alone: the failed instance is ejected until the next refresh, and the file stays the
 * operator's.
 */
export class FileDiscovererClient implements DiscovererClient {
  constructor(readonly path: string) {}

  async fetchInstances(): Promise<readonly DiscoveredInstance[]> {
    const text = await readFile(this.path, 'utf8');
    const document: unknown = this.path.endsWith('.json') ? JSON.parse(text) : parse(text);
    const list = Array.isArray(document) ? document : (document as { instances?: unknown } | null)?.instances;
    if (!Array.isArray(list))
      throw new Error(`${this.path}: expected a list of instances or { instances: [...] }`);
    return list.map((entry, index) => toInstance(entry, `${this.path}: instance ${index}`));
  }

  unregister(): Promise<void> {
    return Promise.resolve();
  }
}

function toInstance(entry: unknown, where: string): DiscoveredInstance {
  const { id, host, port } = (entry ?? {}) as Record<string, unknown>;
  if (typeof id !== 'string' || id === '') throw new Error(`${where}: id must be a non-empty string`);
  if (typeof host !== 'string' || host === '') throw new Error(`${where}: host must be a non-empty string`);
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65_535)
    throw new Error(`${where}: port must be an integer 1-65535`);
  return { id, host, port: port as number };
}
