import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedRedisCluster, startRedisCluster } from './redis-cluster.js';

const cli = (port: number, ...args: string[]) =>
  spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();

describe('startRedisCluster', () => {
  let cluster: StartedRedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('joins three masters into one cluster that covers every slot', () => {
    expect(cluster.ports).toHaveLength(3);
    expect(cluster.url).toBe(`redis+cluster://${cluster.ports.map((p) => `127.0.0.1:${p}`).join(',')}`);
    const info = cli(cluster.ports[0] as number, 'CLUSTER', 'INFO');
    expect(info).toContain('cluster_state:ok');
    expect(info).toContain('cluster_slots_assigned:16384');
    expect(info).toContain('cluster_known_nodes:3');
    // -c follows MOVED: a key set through one master is read through another.
    expect(cli(cluster.ports[0] as number, '-c', 'SET', 'k', 'v')).toBe('OK');
    expect(cli(cluster.ports[2] as number, '-c', 'GET', 'k')).toBe('v');
  });

  it('stop kills every master', async () => {
    await cluster.stop();
    for (const port of cluster.ports) expect(cli(port, 'PING')).not.toBe('PONG');
  });
});
