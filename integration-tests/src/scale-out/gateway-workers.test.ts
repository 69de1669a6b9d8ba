import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { referenceGatewayYaml, startRedis, waitFor } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, serverEntry } from '../harness/repo-paths.js';
import { myServiceClient } from '../reliability/gateway-clients.js';
import { connectionsPerChild } from './test-support/connection-owners.js';
import {
  callEverySession,
  expectEveryCallOnItsInstance,
  expectRaceResult,
  type RaceResult,
  type Replica,
  raceNewSessions,
  useGatewayReplicas,
} from './test-support/gateway-replicas.js';

/**
 * Issue 11, GATEWAY_WORKERS=2: one port, two gateway processes (node:cluster hands each new
 * connection to one of them), bindings shared through Redis. Every call below opens a connection
 * of its own, so consecutive calls of a session enter through either process.
 */

const WORKERS = 10;
const SESSIONS = 50;

describe('GATEWAY_WORKERS=2 over a Redis store', () => {
  const fixture = useGatewayReplicas({
    workers: WORKERS,
    gateways: 1,
    name: 'gateway-workers',
    startStore: startRedis,
    env: { GATEWAY_WORKERS: '2' },
  });
  const clients: MyServiceAPIClient[] = [];
  /** A client on a connection of its own: node:cluster may hand it to either gateway process. */
  const freshClient = (): MyServiceAPIClient => {
    const client = myServiceClient(`127.0.0.1:${fixture.gateways.all[0]?.port}`);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    const primary = fixture.gateways.all[0]?.process;
    const listening = () => (primary?.output().match(/"msg":"listening"/g) ?? []).length;
    await waitFor(() => listening() === 2, { description: 'both gateway processes listening' });
  });

  afterAll(() => {
    for (const client of clients) client.close();
  });

  let race: RaceResult;

  it('the race: 50 new sessions at once, each on its own connection, 10 free workers → 10 served, 40 busy, 0 conflicts', async () => {
    race = await raceNewSessions(
      Array.from({ length: SESSIONS }, () => freshClient()),
      SESSIONS,
      'gateway-workers',
    );
    expectRaceResult(race, SESSIONS, WORKERS);
    // The fifty connections are still open: both gateway processes hold some of them.
    const gatewayProcess = fixture.gateways.all[0] as Replica;
    const held = connectionsPerChild(gatewayProcess.process.pid, gatewayProcess.port);
    expect(held.size).toBe(2);
    expect([...held.values()].reduce((sum, count) => sum + count, 0)).toBe(SESSIONS);
    for (const count of held.values()) expect(count).toBeGreaterThan(0);
  }, 60_000);

  it('each call of each session on a new connection stays on its instance', async () => {
    const calls = await callEverySession(race.sessions, 5, freshClient);
    expect(calls).toHaveLength(5 * WORKERS);
    expectEveryCallOnItsInstance(calls, race.served);
  }, 60_000);
});

describe('GATEWAY_WORKERS=2 with the memory store', () => {
  it('is refused at start-up: exit 1, the reason on stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-workers-memory-'));
    const configPath = join(dir, 'gateway.yaml');
    writeFileSync(
      configPath,
      referenceGatewayYaml({
        authAddress: '127.0.0.1:1',
        discovererUrl: 'http://127.0.0.1:1',
        discovererIntervalMs: 1_000,
      }).toString(),
    );
    const started = spawnSync(process.execPath, [serverEntry('gateway')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 15_000,
      env: {
        PATH: process.env.PATH,
        SERVICE_PORT_GRPC: '1',
        RETRY_COUNT: '3',
        RETRY_TIMEOUT_MS: '2000',
        CONFIG_PATH: configPath,
        JWT_SECRET: 'secret',
        GATEWAY_WORKERS: '2',
      },
    });
    rmSync(dir, { recursive: true, force: true });
    expect(started.status).toBe(1);
    expect(started.stderr).toBe(
      'failed to load configuration\n  GATEWAY_WORKERS=2 needs session_store.type=redis: with the memory store each process keeps its own bindings and would give one instance to two sessions\n',
    );
  });
});
