/**
 * One entry of the discoverer's `GET /v1/instances` (REFERENCE.md 4.5), as it travels on the wire:
 * the only type the tests, the harness and the bench use for it.
 */
export interface DiscoveredInstance {
  readonly instance_id: string;
  readonly ipv4: string;
  readonly port: number;
}

/** Parses a `GET /v1/instances` body; a 404 body (the reference's empty registry) is an empty list. */
export function parseInstances(status: number, body: string): DiscoveredInstance[] {
  if (status === 404) return [];
  if (status !== 200) throw new Error(`GET /v1/instances answered ${status}: ${body.slice(0, 200)}`);
  const parsed = JSON.parse(body) as { instances?: unknown };
  if (!Array.isArray(parsed.instances))
    throw new Error(`GET /v1/instances: no "instances" array in ${body.slice(0, 200)}`);
  return parsed.instances as DiscoveredInstance[];
}

export async function listInstances(discovererUrl: string): Promise<DiscoveredInstance[]> {
  const response = await fetch(`${discovererUrl}/v1/instances`, { signal: AbortSignal.timeout(2_000) });
  return parseInstances(response.status, await response.text());
}
