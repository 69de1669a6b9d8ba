import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { getFreePort, ManagedProcess, referenceGatewayYaml } from '@stickygw/testkit';
import { afterAll, beforeAll, expect } from 'vitest';
import { REPO_ROOT, serverEntry } from '../../harness/repo-paths.js';
import type { StartedProcessStack } from '../../harness/started-process-stack.js';
import {
  echo,
  myServiceClient,
  type Outcome,
  openSession,
  type Session,
} from '../../reliability/gateway-clients.js';
import { useFaultStack } from '../../reliability/test-support/use-fault-stack.js';

/** One gateway process started by a scale-out test, with a client of its own. */
export interface Replica {
  readonly port: number;
  process: ManagedProcess;
  client: MyServiceAPIClient;
}

export type EchoOutcome = Outcome<{ pod_name: string; server_session_id: string }>;

export interface ReplicaOptions {
  /** The stack whose auth, discoverer and JWT secret the replicas use (its own gateway is not called). */
  readonly stack: StartedProcessStack;
  /** `SESSION_STORE_URL` of every replica. */
  readonly storeUrl: string;
  /** Names the config and log files. */
  readonly name: string;
  /** Extra environment (GATEWAY_WORKERS, ...). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Gateway processes over one Redis session store, configured like the reference stack (sticky
 * `my_service` route over the stack's discoverer), each started on its own port or restarted on it.
 */
export class GatewayReplicas {
  readonly all: Replica[] = [];
  readonly configPath: string;
  #starts = 0;

  constructor(private readonly options: ReplicaOptions) {
    const { stack, name } = options;
    this.configPath = join(stack.logDir, `${name}.yaml`);
    writeFileSync(
      this.configPath,
      referenceGatewayYaml({
        authAddress: stack.authAddress,
        discovererUrl: stack.discovererUrl,
        discovererIntervalMs: 200,
      })
        .sessionStore({ type: 'redis' })
        .toString(),
    );
  }

  /** Starts a gateway on `port` and resolves once it listens. */
  async startProcess(port: number, index: number): Promise<ManagedProcess> {
    const { stack, storeUrl, name, env = {} } = this.options;
    const gateway = ManagedProcess.start({
      name: `${name}-${index}`,
      command: process.execPath,
      args: [serverEntry('gateway')],
      cwd: REPO_ROOT,
      // One file per start: the readiness check reads the whole file, an earlier "listening" included.
      logFile: join(stack.logDir, `${name}-${index}-${++this.#starts}.log`),
      env: {
        SERVICE_PORT_GRPC: String(port),
        CONFIG_PATH: this.configPath,
        JWT_SECRET: stack.jwtSecret,
        RETRY_COUNT: '3',
        RETRY_TIMEOUT_MS: '2000',
        SESSION_STORE_URL: storeUrl,
        LOG_LEVEL: 'info',
        // Replicas run side by side: the default admin port 9901 would be one port for all.
        ADMIN_PORT: '0',
        ACCESS_LOG: 'false',
        ...env,
      },
    });
    await gateway.listeningPort();
    return gateway;
  }

  /** Starts `count` more replicas, each on a free port. */
  async add(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const port = await getFreePort();
      const gatewayProcess = await this.startProcess(port, this.all.length);
      this.all.push({ port, process: gatewayProcess, client: myServiceClient(`127.0.0.1:${port}`) });
    }
  }

  /** Stops and starts `replica` on its port, with a fresh channel (the old one is in reconnect backoff). */
  async restart(replica: Replica, index: number): Promise<void> {
    await replica.process.stop(2_000);
    replica.process = await this.startProcess(replica.port, index);
    replica.client.close();
    replica.client = myServiceClient(`127.0.0.1:${replica.port}`);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.all.map((replica) => replica.process.stop(2_000)));
  }

  async startAll(): Promise<void> {
    await Promise.all(
      this.all.map(async (replica, i) => {
        replica.process = await this.startProcess(replica.port, i);
        replica.client.close();
        replica.client = myServiceClient(`127.0.0.1:${replica.port}`);
      }),
    );
  }

  async close(): Promise<void> {
    for (const replica of this.all) replica.client.close();
    await this.stopAll();
  }

  any(): Replica {
    return this.all[Math.floor(Math.random() * this.all.length)] as Replica;
  }
}

/** What the access log says of one Echo call (replicas started with ACCESS_LOG=true). */
export interface EchoLogEntry {
  readonly attempts: number;
  readonly transfers: number;
}

/** Stops every replica (which flushes its access log) and returns the Echo calls they logged. */
export async function echoAccessLog(gateways: GatewayReplicas): Promise<EchoLogEntry[]> {
  await gateways.stopAll();
  return gateways.all.flatMap((replica) =>
    replica.process
      .output()
      .split('\n')
      .filter((line) => line.includes('"log":"access"') && line.includes('/MyServiceEcho"'))
      .map((line) => JSON.parse(line) as EchoLogEntry),
  );
}

export function conflicts(outcomes: readonly Outcome<unknown>[]): number {
  return outcomes.filter((outcome) => outcome.details.includes('Session conflict')).length;
}

const LOGIN_BATCH = 10;

export interface RaceResult {
  readonly served: Map<string, string>;
  readonly sessions: Session[];
  readonly ok: number;
  readonly busy: number;
  readonly conflicts: number;
  /** Outcomes that are neither OK nor `all instances are busy`, for the failure message. */
  readonly other: readonly { code: number; details: string }[];
}

/**
 * The race of issue 11: `count` new sessions opened at once, session i entering through client
 * i mod n, one Echo each, all in flight together.
 */
export async function raceNewSessions(
  clients: readonly MyServiceAPIClient[],
  count: number,
  prefix: string,
): Promise<RaceResult> {
  const through = (i: number) => clients[i % clients.length] as MyServiceAPIClient;
  // Logins are not the race (the first Echo is), and fifty at once on two busy cores can outlast
  // their deadline: they go ten at a time.
  const opened: Session[] = [];
  for (let first = 0; first < count; first += LOGIN_BATCH) {
    const batch = Array.from({ length: Math.min(LOGIN_BATCH, count - first) }, (_, j) => first + j);
    opened.push(
      ...(await Promise.all(batch.map((i) => openSession(through(i), `${prefix}-${Date.now()}-${i}`)))),
    );
  }
  const outcomes: EchoOutcome[] = await Promise.all(opened.map((session, i) => echo(through(i), session)));
  const served = new Map<string, string>();
  const sessions: Session[] = [];
  let ok = 0;
  let busy = 0;
  const other: { code: number; details: string }[] = [];
  outcomes.forEach((outcome, i) => {
    const session = opened[i] as Session;
    if (outcome.code === status.OK && outcome.value?.server_session_id === session.sessionId) {
      ok++;
      served.set(session.sessionId, outcome.value.pod_name);
      sessions.push(session);
    } else if (outcome.code === status.RESOURCE_EXHAUSTED && outcome.details === 'all instances are busy')
      busy++;
    else other.push({ code: outcome.code, details: outcome.details });
  });
  return { served, sessions, ok, busy, conflicts: conflicts(outcomes), other };
}

/**
 * Each of `sessions` calls `rounds` times, all sessions at once per round, each call through a
 * client `pick` chooses; resolves to every outcome with the session it belongs to.
 */
export async function callEverySession(
  sessions: readonly Session[],
  rounds: number,
  pick: () => MyServiceAPIClient,
): Promise<{ session: Session; outcome: EchoOutcome }[]> {
  const results: { session: Session; outcome: EchoOutcome }[] = [];
  for (let round = 0; round < rounds; round++) {
    const outcomes = await Promise.all(sessions.map((session) => echo(pick(), session)));
    outcomes.forEach((outcome, i) => {
      results.push({ session: sessions[i] as Session, outcome });
    });
  }
  return results;
}

/** `redis-cli -p <port> <args...>` against a store of a test; throws on failure. */
export function redisCli(port: number, ...args: string[]): string {
  const result = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** The race's figures: exactly `workers` served, one instance each, the rest refused as busy, no conflict. */
export function expectRaceResult(
  race: RaceResult,
  sessions: number,
  workers: number,
  label = 'the race',
): void {
  const { ok, busy, conflicts, other } = race;
  expect({ label, ok, busy, conflicts, other }).toEqual({
    label,
    ok: workers,
    busy: sessions - workers,
    conflicts: 0,
    other: [],
  });
  expect(new Set(race.served.values()).size).toBe(workers);
}

/** Every call answered OK, by the session's own instance (`served`), for that session. */
export function expectEveryCallOnItsInstance(
  calls: readonly { session: Session; outcome: EchoOutcome }[],
  served: ReadonlyMap<string, string>,
): void {
  expect(conflicts(calls.map((call) => call.outcome))).toBe(0);
  for (const { session, outcome } of calls) {
    expect({ code: outcome.code, details: outcome.details }).toEqual({ code: status.OK, details: '' });
    expect(outcome.value?.pod_name).toBe(served.get(session.sessionId));
    expect(outcome.value?.server_session_id).toBe(session.sessionId);
  }
}

/** A session store a fixture starts and stops: a redis-server or a Redis Cluster. */
interface TestStore {
  readonly url: string;
  stop(): Promise<void>;
}

export interface ReplicaFixtureOptions<S extends TestStore> {
  readonly workers: number;
  readonly gateways: number;
  readonly name: string;
  readonly startStore: () => Promise<S>;
  /** The store URL the gateways get, when not the store's own. */
  readonly storeUrl?: (store: S) => string;
  readonly env?: Readonly<Record<string, string>>;
}

export interface ReplicaFixture<S extends TestStore> {
  readonly stack: StartedProcessStack;
  readonly store: S;
  readonly gateways: GatewayReplicas;
}

/**
 * For the enclosing describe: a fault stack with `workers` workers, a store, and `gateways`
 * gateway processes over it, started in beforeAll and stopped in afterAll.
 */
export function useGatewayReplicas<S extends TestStore>(
  options: ReplicaFixtureOptions<S>,
): ReplicaFixture<S> {
  const fixture = useFaultStack({ workers: options.workers });
  let store: S | undefined;
  let gateways: GatewayReplicas | undefined;
  beforeAll(async () => {
    store = await options.startStore();
    gateways = new GatewayReplicas({
      stack: fixture.stack,
      storeUrl: options.storeUrl?.(store) ?? store.url,
      name: options.name,
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    await gateways.add(options.gateways);
  }, 60_000);
  afterAll(async () => {
    await gateways?.close();
    await store?.stop();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started (use it inside tests or later hooks)`);
    return value;
  };
  return {
    get stack() {
      return fixture.stack;
    },
    get store() {
      return started(store, 'the session store');
    },
    get gateways() {
      return started(gateways, 'the gateways');
    },
  };
}
