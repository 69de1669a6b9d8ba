import { connect } from 'node:net';
import { type StartedRedis, startRedis } from '@stickygw/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateStackSecrets, REDIS_USERS, redisAclUsers } from '../harness/stack-secrets.js';

/**
 * The ACL users of a secured stack (`make up`, compose, `ProcessStack.secured()`) on a real
 * redis-server: each service's user does what its service does and nothing to another's keys.
 */
const secrets = generateStackSecrets();
let redis: StartedRedis;
const clients: Redis[] = [];

async function connectAs(user: keyof typeof REDIS_USERS): Promise<Redis> {
  const password = {
    auth: secrets.redisAuthPassword,
    discoverer: secrets.redisDiscovererPassword,
    gateway: secrets.redisGatewayPassword,
  }[user];
  const client = new Redis(redis.urlFor(REDIS_USERS[user], password), {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  clients.push(client);
  await client.connect();
  return client;
}

/** One command on a fresh, unauthenticated connection; the first reply line. */
function rawCommand(line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: redis.port }, () => socket.write(`${line}\r\n`));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('error', reject);
  });
}

/** The error a refused command rejects with (ioredis rejects with a ReplyError). */
async function refusal(command: Promise<unknown>): Promise<string> {
  try {
    await command;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the command was allowed');
}

beforeAll(async () => {
  redis = await startRedis({ password: secrets.redisAdminPassword, acl: redisAclUsers(secrets) });
});
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await redis?.stop();
});

describe('Redis ACL users of the stack', () => {
  it('refuses anonymous clients and wrong passwords', async () => {
    expect(await rawCommand('GET external_user:TestUser')).toMatch(/^-NOAUTH/);
    expect(await rawCommand('AUTH auth not-the-password')).toMatch(/^-WRONGPASS/);
    expect(await rawCommand(`AUTH default ${secrets.redisAuthPassword}`)).toMatch(/^-WRONGPASS/);
  });

  it('auth reads and writes external_user:* and nothing else', async () => {
    const auth = await connectAs('auth');
    await auth.set('external_user:TestUser', '{"login":"TestUser"}');
    expect(await auth.get('external_user:TestUser')).toBe('{"login":"TestUser"}');
    expect(await refusal(auth.get('instance:worker-1'))).toMatch(/^NOPERM/);
    expect(await refusal(auth.set('instance:worker-1', 'hijack'))).toMatch(/^NOPERM/);
    expect(await refusal(auth.hget('stickygw:{my_service}:bindings', 'session'))).toMatch(/^NOPERM/);
    expect(await refusal(auth.del('external_user:TestUser'))).toMatch(/^NOPERM/);
    expect(await refusal(auth.keys('*'))).toMatch(/^NOPERM/);
  });

  it('the discoverer owns instance:* (SET, GET, DEL, SCAN, MGET, its script) and nothing else', async () => {
    const discoverer = await connectAs('discoverer');
    await discoverer.select(1);
    await discoverer.select(0);
    await discoverer.set('instance:worker-1', '{"instance_id":"worker-1"}', 'PX', 60_000);
    expect(await discoverer.mget('instance:worker-1')).toEqual(['{"instance_id":"worker-1"}']);
    const [, keys] = await discoverer.scan('0', 'MATCH', 'instance:*', 'COUNT', 100);
    expect(keys).toEqual(['instance:worker-1']);
    expect(await discoverer.eval("return redis.call('GET', KEYS[1])", 1, 'instance:worker-1')).toBe(
      '{"instance_id":"worker-1"}',
    );
    expect(
      await refusal(discoverer.eval("return redis.call('GET', KEYS[1])", 1, 'external_user:TestUser')),
    ).toMatch(/NOPERM/);
    expect(await refusal(discoverer.get('external_user:TestUser'))).toMatch(/^NOPERM/);
    expect(await refusal(discoverer.set('external_user:TestUser', '{"role":"admin"}'))).toMatch(/^NOPERM/);
    expect(await refusal(discoverer.del('stickygw:{my_service}:bindings'))).toMatch(/^NOPERM/);
    expect(await refusal(discoverer.flushall())).toMatch(/^NOPERM/);
    expect(await discoverer.del('instance:worker-1')).toBe(1);
  });

  it("the gateway's session store scripts stickygw:* and its channels, and nothing else", async () => {
    const gateway = await connectAs('gateway');
    const keys = ['{c}:bindings', '{c}:leases', '{c}:used', '{c}:released'].map((k) => `stickygw:${k}`);
    const script =
      "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); redis.call('PUBLISH', KEYS[4], ARGV[1]); return redis.call('HGET', KEYS[1], ARGV[1])";
    expect(await gateway.eval(script, 4, ...keys, 'session', 'worker-1')).toBe('worker-1');
    const subscriber = await connectAs('gateway');
    await subscriber.subscribe('stickygw:{c}:released');
    const outsider = await connectAs('gateway');
    expect(await refusal(outsider.subscribe('instance:events'))).toMatch(/NOPERM/);
    expect(await refusal(gateway.publish('other-channel', 'x'))).toMatch(/^NOPERM/);
    const foreign = ['instance:worker-1', 'external_user:TestUser', 'stickygw:x', 'stickygw:y'];
    expect(await refusal(gateway.eval("return redis.call('GET', KEYS[1])", 4, ...foreign))).toMatch(/NOPERM/);
    expect(await refusal(gateway.get('instance:worker-1'))).toMatch(/^NOPERM/);
    expect(await refusal(gateway.set('external_user:TestUser', 'x'))).toMatch(/^NOPERM/);
    expect(await refusal(gateway.hget('instance:worker-1', 'x'))).toMatch(/^NOPERM/);
    expect(await refusal(gateway.config('GET', 'requirepass'))).toMatch(/^NOPERM/);
  });
});
