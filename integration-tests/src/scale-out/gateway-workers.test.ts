import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { referenceGatewayYaml, type StartedRedis, startRedis, waitFor } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, serverEntry } from '../harness/repo-paths.js';
import { myServiceClient } from '../reliability/gateway-clients.js';
import { useFaultStack } from '../reliability/test-support/use-fault-stack.js';
import {
  callEverySession,
  GatewayReplicas,
  type RaceResult,
  raceNewSessions,
} from './test-support/gateway-replicas.js';

/**
 * Issue 11, GATEWAY_WORKERS=2: one port, two gateway processes (node:cluster hands each new
 * connection to one of them), bindings shared through Redis. Every call below opens a connection
 * of its own, so consecutive calls of a session enter through either process.
 */

const WORKERS = 10;
const SESSIONS = 50;

describe('GATEWAY_WORKERS=2 over a Redis store', () => {
  const fixture = useFaultStack({ workers: WORKERS });
  let store: StartedRedis;
  let gateway: GatewayReplicas;
  let address: string;
  const clients: MyServiceAPIClient[] = [];
  /** A client on a connection of its own: node:cluster may hand it to either gateway process. */
  const freshClient = (): MyServiceAPIClient => {
    const client = myServiceClient(address);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    store = await startRedis();
    gateway = new GatewayReplicas({
      stack: fixture.stack,
      storeUrl: store.url,
      name: 'gateway-workers',
      env: { GATEWAY_WORKERS: '2' },
    });
    await gateway.add(1);
    const primary = gateway.all[0]?.process;
    address = `127.0.0.1:${gateway.all[0]?.port}`;
    const listening = () => (primary?.output().match(/"msg":"listening"/g) ?? []).length;
    await waitFor(() => listening() === 2, { description: 'both gateway processes listening' });
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await gateway?.close();
    await store?.stop();
  });

  let race: RaceResult;

  it('the race: 50 new sessions at once, each on its own connection, 10 free workers → 10 served, 40 busy, 0 conflicts', async () => {
    race = await raceNewSessions(
      Array.from({ length: SESSIONS }, () => freshClient()),
      SESSIONS,
      'gateway-workers',
    );
    expect({ ok: race.ok, busy: race.busy, conflicts: race.conflicts, other: race.other }).toEqual({
      ok: WORKERS,
      busy: SESSIONS - WORKERS,
      conflicts: 0,
      other: [],
    });
    expect(new Set(race.served.values()).size).toBe(WORKERS);
  }, 60_000);

  it('each call of each session on a new connection stays on its instance', async () => {
    const calls = await callEverySession(race.sessions, 5, freshClient);
    expect(calls).toHaveLength(5 * WORKERS);
    for (const { session, outcome } of calls) {
      expect({ code: outcome.code, details: outcome.details }).toEqual({ code: status.OK, details: '' });
      expect(outcome.value?.pod_name).toBe(race.served.get(session.sessionId));
      expect(outcome.value?.server_session_id).toBe(session.sessionId);
    }
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
