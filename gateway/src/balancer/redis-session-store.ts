import { Redis, Cluster as RedisCluster, type RedisOptions } from 'ioredis';
import type { RemovalCause } from '../cluster/cluster.js';
import type { Endpoint } from '../cluster/endpoint.js';
import { parseSessionStoreUrl, redactedStoreUrl } from '../config/session-store-url.js';
import { GatewayError } from '../grpc/gateway-error.js';
import { Status } from '../grpc/status.js';
import type { Logger } from '../observability/logger.js';
import { InMemorySessionStore } from './in-memory-session-store.js';
import type { SessionStore } from './session-store.js';

/**
 * The scripts run atomically on the Redis node owning the cluster's hash tag. KEYS: 1 bindings
 * (HASH key → instance), 2 leases (HASH instance → key), 3 last use (ZSET key → ms), 4 the release
 * channel (named like the keys, but not a key), 5 the data marker (written once, never expires),
 * 6 the recovery window (a key with a TTL).
 */

/**
 * Redis without its data (restarted without persistence, flushed): the bindings every process
 * holds in its local copy are missing until each has re-asserted them after reconnecting. A script
 * that finds the data marker missing writes it and opens the recovery window, ARGV[1] ms; until
 * it closes, new sessions wait, so none takes an instance whose binding is not re-asserted yet.
 */
const RECOVERY = `
local function recovering()
  if redis.call('EXISTS', KEYS[5]) == 0 then
    redis.call('SET', KEYS[5], '1')
    redis.call('SET', KEYS[6], '1', 'PX', ARGV[1])
  end
  return redis.call('PTTL', KEYS[6])
end
`;

/**
 * ARGV: recovery window (ms), key, candidates in the balancer's order. Returns the instance `key`
 * is bound to, nil when no candidate is free, or the ms left of the recovery window (a bound key
 * is answered during it: only new bindings wait).
 */
const CLAIM = `${RECOVERY}
local key = ARGV[2]
local bound = redis.call('HGET', KEYS[1], key)
if bound then return bound end
local wait = recovering()
if wait > 0 then return wait end
for i = 3, #ARGV do
  if redis.call('HSETNX', KEYS[2], ARGV[i], key) == 1 then
    redis.call('HSET', KEYS[1], key, ARGV[i])
    return ARGV[i]
  end
end
return false`;

/**
 * ARGV: instance, key ('' = whatever key the instance's lease names). Compare-and-delete: each
 * half goes only if it still points at the other; the release is announced either way, so every
 * process drops a cached copy it may still hold.
 */
const RELEASE = `
local key = ARGV[2]
if key == '' then key = redis.call('HGET', KEYS[2], ARGV[1]) end
if not key then return 0 end
if redis.call('HGET', KEYS[1], key) == ARGV[1] then redis.call('HDEL', KEYS[1], key) end
if redis.call('HGET', KEYS[2], ARGV[1]) == key then redis.call('HDEL', KEYS[2], ARGV[1]) end
redis.call('ZREM', KEYS[3], key)
redis.call('PUBLISH', KEYS[4], ARGV[1] .. '\\n' .. key)
return 1`;

/**
 * ARGV: recovery window (ms), then key, instance, key, instance... held by one process. First
 * writer wins: a pair whose two halves are absent or already its own is (re)written; one that
 * collides with another binding is returned as lost. Found without its data, Redis gets its
 * recovery window opened here too, before any process's claim can take a re-asserted instance.
 */
const REASSERT = `${RECOVERY}
recovering()
local lost = {}
for i = 2, #ARGV, 2 do
  local key, instance = ARGV[i], ARGV[i + 1]
  local bound = redis.call('HGET', KEYS[1], key)
  local lease = redis.call('HGET', KEYS[2], instance)
  if (not bound or bound == instance) and (not lease or lease == key) then
    redis.call('HSET', KEYS[1], key, instance)
    redis.call('HSET', KEYS[2], instance, key)
  else
    table.insert(lost, key)
  end
end
return lost`;

/**
 * ARGV: last-use cut-off (ms), then key, last use, key, last use... recorded here since the last
 * sweep. Bindings unused since the cut-off by every process are released as RELEASE does.
 */
const SWEEP_IDLE = `
for i = 2, #ARGV, 2 do redis.call('ZADD', KEYS[3], 'GT', ARGV[i + 1], ARGV[i]) end
local idle = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, key in ipairs(idle) do
  redis.call('ZREM', KEYS[3], key)
  local instance = redis.call('HGET', KEYS[1], key)
  if instance then
    redis.call('HDEL', KEYS[1], key)
    if redis.call('HGET', KEYS[2], instance) == key then redis.call('HDEL', KEYS[2], instance) end
    redis.call('PUBLISH', KEYS[4], instance .. '\\n' .. key)
  end
end
return #idle`;

interface ScriptCommands {
  stickyClaim(...args: string[]): Promise<string | number | null>;
  stickyRelease(...args: string[]): Promise<number>;
  stickyReassert(...args: string[]): Promise<string[]>;
  stickySweepIdle(...args: string[]): Promise<number>;
}

type Client = (Redis | RedisCluster) & ScriptCommands;

/** KEYS of every script (see the scripts' header). */
const STORE_KEYS = 6;
/**
 * How long new sessions wait after Redis is found without its data. Longer than a process takes to
 * reconnect and re-assert (its reconnection attempts are at most 1 s apart).
 */
const RECOVERY_WINDOW_MS = 1_500;
/** Claims of one new session that may meet an open recovery window before it is refused. */
const RECOVERY_WAITS = 3;
/** A command that did not answer within this fails, so a new session is refused instead of hanging. */
const COMMAND_TIMEOUT_MS = 1_000;
/** How long `start` waits for the first connection; the store keeps trying afterwards. */
const FIRST_CONNECT_MS = 3_000;

/**
 * The Redis side of every cluster's `RedisSessionStore` in one gateway process: one command
 * connection and one subscriber connection (pub/sub needs its own), shared by the clusters.
 * Commands fail fast while Redis is away (no offline queue); the connections come back by themselves.
 */
export class RedisSessionStores {
  private readonly client: Client;
  private readonly subscriber: Redis | RedisCluster;
  private readonly stores = new Map<string, RedisSessionStore>();
  private connectedBefore = false;
  private closed = false;
  readonly unavailable: GatewayError;

  constructor(
    url: string,
    private readonly logger: Logger,
    /** How long new sessions wait once Redis is found without its data (tests shorten it). */
    private readonly recoveryWindowMs = RECOVERY_WINDOW_MS,
  ) {
    const address = parseSessionStoreUrl(url);
    if (address === undefined) throw new Error(`not a session store URL: ${redactedStoreUrl(url)}`);
    // Clients learn which part is missing, not where it lives.
    this.unavailable = new GatewayError(
      Status.UNAVAILABLE,
      'session_store_unavailable',
      'session store unavailable',
    );
    const options: RedisOptions = {
      username: address.username,
      password: address.password,
      db: address.db,
      tls: address.tls ? {} : undefined,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: COMMAND_TIMEOUT_MS,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    };
    const seeds = address.seeds.map(({ host, port }) => ({ host, port }));
    const first = seeds[0] as { host: string; port: number };
    const client = address.cluster
      ? new RedisCluster(seeds, {
          redisOptions: options,
          enableOfflineQueue: false,
          clusterRetryStrategy: options.retryStrategy,
        })
      : new Redis({ ...options, ...first });
    client.defineCommand('stickyClaim', { numberOfKeys: STORE_KEYS, lua: CLAIM });
    client.defineCommand('stickyRelease', { numberOfKeys: STORE_KEYS, lua: RELEASE });
    client.defineCommand('stickyReassert', { numberOfKeys: STORE_KEYS, lua: REASSERT });
    client.defineCommand('stickySweepIdle', { numberOfKeys: STORE_KEYS, lua: SWEEP_IDLE });
    this.client = client as Client;
    // Subscriptions wait for the connection and are renewed after each reconnection.
    this.subscriber = address.cluster
      ? new RedisCluster(seeds, { redisOptions: { ...options, commandTimeout: undefined } })
      : new Redis({ ...options, ...first, commandTimeout: undefined, enableOfflineQueue: true });
    this.subscriber.on('message', (channel: string, message: string) => {
      this.stores.get(channel)?.released(message);
    });
    for (const connection of [client, this.subscriber]) connection.on('error', () => undefined);
    client.on('ready', () => this.connected());
    client.on('close', () => {
      if (this.connectedBefore && !this.closed)
        logger.warn({ url: redactedStoreUrl(url) }, 'session store connection lost');
    });
  }

  /** The store of one cluster (its keys carry the cluster id as a Redis Cluster hash tag). */
  storeFor(clusterId: string): RedisSessionStore {
    const store = new RedisSessionStore(
      this.client,
      clusterId,
      this.unavailable,
      this.logger,
      this.recoveryWindowMs,
    );
    this.stores.set(store.channel, store);
    void this.subscriber.subscribe(store.channel).catch((err: unknown) => {
      this.logger.warn({ err: String(err) }, 'session store subscription failed');
    });
    return store;
  }

  /** Resolves once connected, or after {@link FIRST_CONNECT_MS} (new sessions are refused until then). */
  async start(): Promise<void> {
    if (this.isReady()) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FIRST_CONNECT_MS);
      this.client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (!this.isReady()) this.logger.warn('session store not reachable yet');
  }

  /** The Redis connection is up (the admin listener's readiness). */
  get reachable(): boolean {
    return this.isReady();
  }

  private isReady(): boolean {
    return this.client.status === 'ready';
  }

  close(): void {
    this.closed = true;
    this.client.disconnect();
    this.subscriber.disconnect();
  }

  /**
   * After a reconnection Redis may have restarted empty, and releases announced meanwhile were
   * missed: every store writes its bindings back (first writer wins) and drops those it lost.
   */
  private connected(): void {
    if (this.connectedBefore) {
      this.logger.info('session store connection back: re-asserting bindings');
      for (const store of this.stores.values()) void store.reassert();
    }
    this.connectedBefore = true;
  }
}

/**
 * Candidates sent with a claim's first round trip. Every argument costs Redis and ioredis work: with
 * all 1,100 free instances of the bench in one claim, a new session's first call took 0.9 ms at p50
 * and 4.9 ms at p99 in the claim alone, against 0.06 / 0.26 ms with 64. The candidates are those
 * this process believes free, so a batch fails only when every one of them is leased by another
 * process; the remaining candidates then go in a second round trip.
 */
const CLAIM_BATCH = 32;

/** How long a binding may point at an endpoint this process does not list before it releases it for all. */
export const UNLISTED_RELEASE_MS = 10 * 60_000;

/**
 * A `SessionStore` shared by every gateway process through Redis (gateway/README.md, "Scale-out"),
 * for one cluster: bindings and leases in two hashes, claimed together by one script; a local
 * copy in front answers every lookup, so a bound session's call costs no round trip.
 */
export class RedisSessionStore implements SessionStore {
  private readonly cache = new InMemorySessionStore();
  private readonly keys: readonly string[];
  /** Releases that failed while Redis was away, sent again on reconnection. */
  private unsentReleases: [string, string][] = [];
  /** Last use of each key since the last idle sweep (routes with an idle timeout only). */
  private usedSinceSweep = new Map<string, number>();
  /** Bindings to an endpoint this process does not list, and since when (see `unbindIfBoundTo`). */
  private readonly unlistedSince = new Map<string, { readonly endpointId: string; readonly since: number }>();
  readonly channel: string;

  constructor(
    private readonly client: Client,
    clusterId: string,
    private readonly unavailable: GatewayError,
    private readonly logger: Logger,
    private readonly recoveryWindowMs: number,
  ) {
    const prefix = `stickygw:{${clusterId}}`;
    this.channel = `${prefix}:released`;
    this.keys = [
      `${prefix}:bindings`,
      `${prefix}:leases`,
      `${prefix}:used`,
      this.channel,
      `${prefix}:data`,
      `${prefix}:recovering`,
    ];
  }

  endpointOf(key: string): string | undefined {
    return this.cache.endpointOf(key);
  }

  keyOf(endpointId: string): string | undefined {
    return this.cache.keyOf(endpointId);
  }

  claim(key: string, endpoints: readonly Endpoint[], start: number): Promise<string | undefined> {
    const candidates: string[] = [];
    const count = endpoints.length;
    for (let offset = 0; offset < count; offset++) {
      const id = (endpoints[(start + offset) % count] as Endpoint).id;
      // Known here as another key's: certainly not free (Redis decides for the others).
      if (this.cache.keyOf(id) === undefined) candidates.push(id);
    }
    return this.claimFrom(key, candidates, RECOVERY_WAITS).then(
      (bound) => {
        if (bound === null) return undefined;
        this.cache.unbindEndpoint(bound);
        this.cache.bind(key, bound);
        return bound;
      },
      (err: unknown) => {
        this.logger.debug({ err: String(err) }, 'session store claim failed');
        throw this.unavailable;
      },
    );
  }

  /** The bound instance, or null when none of `candidates` is free. */
  private async claimFrom(key: string, candidates: readonly string[], waits: number): Promise<string | null> {
    const first = candidates.slice(0, CLAIM_BATCH);
    let answer = await this.runClaim(key, first);
    // Every one of the first batch is leased by another process: the rest, in one more trip.
    if (answer === null && candidates.length > first.length)
      answer = await this.runClaim(key, candidates.slice(CLAIM_BATCH));
    if (typeof answer !== 'number') return answer;
    if (waits === 0) throw new Error('session store recovering');
    // Re-asserted meanwhile, the local copy knows which candidates are taken now.
    await new Promise((resolve) => setTimeout(resolve, answer));
    return this.claimFrom(
      key,
      candidates.filter((id) => this.cache.keyOf(id) === undefined),
      waits - 1,
    );
  }

  private runClaim(key: string, candidates: readonly string[]): Promise<string | number | null> {
    return this.client.stickyClaim(...this.keys, String(this.recoveryWindowMs), key, ...candidates);
  }

  /**
   * The balancer found `key` bound to an endpoint this process does not list. Another process may
   * list it and serve the session there (its discovery is ahead, or this one set the endpoint aside),
   * so only the copy here is dropped: releasing the lease for all would hand a live, bound instance
   * to the next new session. Failures release through `unbindEndpoint`; a binding that stays unlisted
   * here for `UNLISTED_RELEASE_MS` (the retention of a vanished pinned endpoint) is released for all,
   * so a session whose instance is gone for good is not stuck when no process that bound it remains.
   */
  unbindIfBoundTo(key: string, endpointId: string): void {
    if (this.cache.endpointOf(key) === endpointId) this.cache.unbindIfBoundTo(key, endpointId);
    const now = Date.now();
    const seen = this.unlistedSince.get(key);
    if (seen === undefined || seen.endpointId !== endpointId) {
      this.unlistedSince.set(key, { endpointId, since: now });
      return;
    }
    if (now - seen.since < UNLISTED_RELEASE_MS) return;
    this.unlistedSince.delete(key);
    this.release(endpointId, key);
  }

  unbindEndpoint(endpointId: string, cause: RemovalCause): void {
    const key = this.cache.keyOf(endpointId);
    this.cache.unbindEndpoint(endpointId);
    // A failure seen here ends the lease for every process. An endpoint that merely left this
    // process's discovery and was not bound here may be retained by the process that bound it.
    if (cause === 'failed' || key !== undefined) this.release(endpointId, key ?? '');
  }

  touch(key: string): void {
    this.usedSinceSweep.set(key, Date.now());
  }

  releaseIdle(idleMs: number): void {
    const args = [...this.keys, String(Date.now() - idleMs)];
    for (const [key, usedAt] of this.usedSinceSweep) args.push(key, String(usedAt));
    const used = this.usedSinceSweep;
    this.usedSinceSweep = new Map();
    this.client.stickySweepIdle(...args).catch(() => {
      // Kept for the next sweep, unless a newer use was recorded meanwhile.
      for (const [key, usedAt] of used)
        if (!this.usedSinceSweep.has(key)) this.usedSinceSweep.set(key, usedAt);
    });
  }

  /** Writes every binding held here back to Redis; those another process holds now are dropped here. */
  async reassert(): Promise<void> {
    const unsent = this.unsentReleases;
    this.unsentReleases = [];
    for (const [endpointId, key] of unsent) this.release(endpointId, key);
    const args = [...this.keys, String(this.recoveryWindowMs)];
    for (const [key, endpointId] of this.cache.entries()) args.push(key, endpointId);
    if (args.length === this.keys.length + 1) return;
    try {
      const lost = await this.client.stickyReassert(...args);
      for (const key of lost) {
        const endpointId = this.cache.endpointOf(key);
        if (endpointId !== undefined) this.cache.unbindIfBoundTo(key, endpointId);
      }
      if (lost.length > 0)
        this.logger.warn({ lost: lost.length }, 'bindings held by another gateway dropped');
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'session store re-assert failed');
    }
  }

  /** A release announced on the channel (`<instance>\n<key>`), by any process, this one included. */
  released(message: string): void {
    const newline = message.indexOf('\n');
    if (newline < 0) return;
    const endpointId = message.slice(0, newline);
    const key = message.slice(newline + 1);
    this.cache.unbindIfBoundTo(key, endpointId);
    if (this.unlistedSince.get(key)?.endpointId === endpointId) this.unlistedSince.delete(key);
  }

  entries(): IterableIterator<[string, string]> {
    return this.cache.entries();
  }

  close(): void {
    this.cache.close();
  }

  get size(): number {
    return this.cache.size;
  }

  private release(endpointId: string, key: string): void {
    this.client.stickyRelease(...this.keys, endpointId, key).catch(() => {
      this.unsentReleases.push([endpointId, key]);
    });
  }
}
