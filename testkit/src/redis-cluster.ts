import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from './free-port.js';
import { ManagedProcess } from './managed-process.js';
import { redisServerSpec } from './redis-server.js';
import { waitFor } from './wait-for.js';

/** A local Redis Cluster of masters only, each a real redis-server on a free loopback port. */
export interface StartedRedisCluster {
  /** The masters' client ports. */
  readonly ports: readonly number[];
  /** `redis+cluster://127.0.0.1:<p1>,127.0.0.1:<p2>,...`: every master as a seed node. */
  readonly url: string;
  /** Kills every master and removes their node files. Idempotent. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 2_000;

function redisCli(port: number, args: readonly string[]): { ok: boolean; output: string } {
  const result = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 30_000 });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/**
 * Starts `masters` redis-servers in cluster mode (node files in a temp dir each; the cluster bus on
 * a free port of its own, not port + 10000), joins them with `redis-cli --cluster create` (no
 * replicas) and resolves once every node says `cluster_state:ok`.
 */
export async function startRedisCluster(masters = 3): Promise<StartedRedisCluster> {
  const dirs: string[] = [];
  const servers: ManagedProcess[] = [];
  const ports: number[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(servers.map((server) => server.stop(STOP_GRACE_MS)));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await getFreePort();
      const busPort = await getFreePort();
      const dir = mkdtempSync(join(tmpdir(), `redis-cluster-${port}-`));
      dirs.push(dir);
      ports.push(port);
      const spec = redisServerSpec(port);
      servers.push(
        ManagedProcess.start({
          ...spec,
          name: `redis-cluster-${i + 1}`,
          cwd: dir,
          args: [
            ...(spec.args ?? []),
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, 'nodes.conf'),
            '--cluster-port',
            String(busPort),
            '--dir',
            dir,
          ],
        }),
      );
    }
    for (const port of ports) {
      await waitFor(() => redisCli(port, ['PING']).output.trim() === 'PONG', {
        description: `redis-server (cluster mode) on 127.0.0.1:${port}`,
        timeoutMs: 10_000,
      });
    }
    const created = redisCli(ports[0] as number, [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    if (!created.ok) throw new Error(`redis-cli --cluster create failed:\n${created.output}`);
    for (const port of ports) {
      await waitFor(() => redisCli(port, ['CLUSTER', 'INFO']).output.includes('cluster_state:ok'), {
        description: `cluster_state:ok on 127.0.0.1:${port}`,
        timeoutMs: 15_000,
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { ports, url: `redis+cluster://${ports.map((port) => `127.0.0.1:${port}`).join(',')}`, stop };
}
