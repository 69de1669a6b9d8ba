import {
  type Cluster,
  type ClusterContext,
  type ClusterSnapshot,
  createLogger,
  makeEndpoint,
  RoundRobinBalancer,
  snapshotOf,
} from '@stickygw/gateway';
import { describe, expect, it } from 'vitest';
import { weightedClusterType } from './weighted-cluster.js';

/** A member cluster that only publishes snapshots (the schedule reads nothing else). */
function member(id: string, endpointCount: number): Cluster & { snapshot: ClusterSnapshot } {
  const endpoints = Array.from({ length: endpointCount }, (_, i) =>
    makeEndpoint(`${id}-${i}`, '127.0.0.1', 1000 + i),
  );
  return {
    id,
    failover: false,
    snapshot: snapshotOf(endpoints),
    connection: () => {
      throw new Error('not used');
    },
    reportFailure: () => {},
    onEndpointsRemoved: () => {},
    start: () => Promise.resolve(),
    close: () => {},
    connectionsCreated: 0,
  };
}

async function weighted(members: Record<string, Cluster>, split: { cluster: string; weight: number }[]) {
  const context: ClusterContext = {
    logger: createLogger({ level: 'silent' }),
    upstream: { connectTimeoutMs: 1000, keepaliveIntervalMs: 1000, keepaliveTimeoutMs: 1000 },
    retryTimeoutMs: 1000,
    createDiscovererClient: () => {
      throw new Error('not used');
    },
    cluster: (id) => members[id],
  };
  const cluster = weightedClusterType(
    { type: 'extension', id: 'w', extensionType: 'weighted', settings: { type: 'weighted', split } },
    context,
  );
  await cluster.start();
  return cluster;
}

function picks(cluster: Cluster, count: number): Record<string, number> {
  const balancer = new RoundRobinBalancer();
  const counts: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const pick = balancer.pick(cluster.snapshot);
    if (pick.type !== 'complete') throw new Error(`pick ${i}: ${pick.type}`);
    counts[pick.endpoint.id] = (counts[pick.endpoint.id] ?? 0) + 1;
  }
  return counts;
}

describe('the weighted schedule under round robin', () => {
  it('gives each member its weight and each of its endpoints an equal part, whatever their counts', async () => {
    const cluster = await weighted({ stable: member('stable', 3), canary: member('canary', 2) }, [
      { cluster: 'stable', weight: 75 },
      { cluster: 'canary', weight: 25 },
    ]);
    // 24 picks per cycle of the snapshot: 3:1 over 3 and 2 endpoints.
    expect(picks(cluster, 240)).toEqual({
      'stable-0': 60,
      'stable-1': 60,
      'stable-2': 60,
      'canary-0': 30,
      'canary-1': 30,
    });
  });

  it('gives the share of a member without endpoints to the others, and follows its next snapshot', async () => {
    const canary = member('canary', 0);
    const cluster = await weighted({ stable: member('stable', 1), canary }, [
      { cluster: 'stable', weight: 1 },
      { cluster: 'canary', weight: 1 },
    ]);
    expect(picks(cluster, 10)).toEqual({ 'stable-0': 10 });
    canary.snapshot = member('canary', 1).snapshot;
    expect(picks(cluster, 10)).toEqual({ 'stable-0': 5, 'canary-0': 5 });
  });
});
