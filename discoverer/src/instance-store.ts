import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RegisterBody } from './register-body.js';

/** One element of `GET /v1/instances` (REFERENCE.md 4.5): exactly these three properties. */
export interface InstanceAddress {
  instance_id: string;
  ipv4: string;
  port: number;
}

const KEY_PREFIX = 'instance:';
/** Glob for SCAN; ids may contain `*`, `?` or `[`, but they only ever appear as literal key suffixes. */
const KEY_PATTERN = `${KEY_PREFIX}*`;
const SCAN_PAGE_SIZE = 500;

/**
 * KEYS: the entry. ARGV: the new record, its TTL, its ipv4, its port, the hex digest of the token it
 * is registered with. A live entry at another address stays unless it was registered with the same
 * token; an undecodable one is overwritten. Returns 1 when written, 0 when refused.
 */
const REGISTER_OWNED = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, entry = pcall(cjson.decode, current)
  if ok and type(entry) == 'table' and (entry.ipv4 ~= ARGV[3] or entry.port ~= tonumber(ARGV[4]))
    and entry.registered_by ~= ARGV[5] then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

interface ScriptCommands {
  registerOwned(
    key: string,
    record: string,
    ttlMs: number,
    ipv4: string,
    port: number,
    registeredBy: string,
  ): Promise<number>;
}

/**
 * The instance registry in Redis (REFERENCE.md 4.6): one string per instance at
 * `instance:<instance_id>` holding the registration as JSON, expiring after `ttl_ms`.
 * Methods reject with the Redis error; callers decide what the client sees.
 */
export class InstanceStore {
  private readonly redis: Redis & ScriptCommands;

  constructor(
    redis: Redis,
    private readonly logger: Logger,
  ) {
    redis.defineCommand('registerOwned', { numberOfKeys: 1, lua: REGISTER_OWNED });
    this.redis = redis as Redis & ScriptCommands;
  }

  /**
   * Writes (or overwrites) the entry and restarts its TTL: registration and heartbeat are the same
   * call. With `registeredBy` (the digest of the request's token, registries with tokens) the entry
   * keeps it, and an id live at another address is only taken over with the same token: resolves
   * `false` then, writing nothing. Without, the write is unconditional, as in the reference.
   */
  async register(registration: RegisterBody, registeredBy?: Buffer): Promise<boolean> {
    const { instance_id, service_type, ipv4, port, ttl_ms, timestamp } = registration;
    const key = KEY_PREFIX + instance_id;
    const record = { instance_id, service_type, ipv4, port, ttl_ms, timestamp };
    if (registeredBy === undefined) {
      await this.redis.set(key, JSON.stringify(record), 'PX', ttl_ms);
      return true;
    }
    const owner = registeredBy.toString('hex');
    const json = JSON.stringify({ ...record, registered_by: owner });
    return (await this.redis.registerOwned(key, json, ttl_ms, ipv4, port, owner)) === 1;
  }

  /** Deletes the entry; deleting an absent entry is not an error. DEL never interprets glob characters. */
  async unregister(instanceId: string): Promise<void> {
    await this.redis.del(KEY_PREFIX + instanceId);
  }

  /**
   * Every decodable entry, in SCAN order. One MGET per SCAN page keeps it at one round trip per page
   * (the reference did KEYS plus one GET per key). SCAN may return a key twice, and a key may expire
   * between SCAN and MGET; both are tolerated.
   */
  async list(): Promise<InstanceAddress[]> {
    const instances: InstanceAddress[] = [];
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', KEY_PATTERN, 'COUNT', SCAN_PAGE_SIZE);
      cursor = next;
      const fresh = keys.filter((key) => !seen.has(key));
      if (fresh.length === 0) continue;
      for (const key of fresh) seen.add(key);
      const values = await this.redis.mget(fresh);
      values.forEach((value, i) => {
        if (value === null) return; // expired after SCAN, or not a string key
        const instance = decodeEntry(value);
        if (instance === undefined) {
          this.logger.warn({ key: fresh[i] }, 'skipping undecodable instance entry');
          return;
        }
        instances.push(instance);
      });
    } while (cursor !== '0');
    return instances;
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }
}

function decodeEntry(raw: string): InstanceAddress | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { instance_id, ipv4, port } = parsed as Record<string, unknown>;
  if (typeof instance_id !== 'string' || instance_id === '') return undefined;
  if (typeof ipv4 !== 'string' || typeof port !== 'number' || !Number.isInteger(port)) return undefined;
  return { instance_id, ipv4, port };
}
