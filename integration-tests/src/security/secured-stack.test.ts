import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listInstances, ManagedProcess, waitFor } from '@stickygw/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessStack } from '../harness/process-stack.js';
import { generateStackSecrets } from '../harness/stack-secrets.js';
import type { StartedProcessStack } from '../harness/started-process-stack.js';
import { runScenario } from '../runner/run-scenario.js';
import { findScenario } from '../scenarios/registry.js';

/**
 * The whole stack with every door of README "Security" closed (`ProcessStack.secured()`: the
 * discoverer token from a file, one Redis ACL user per service), two gateways so the session store
 * runs as its own Redis user too.
 */
const secrets = generateStackSecrets();
let stack: StartedProcessStack;

beforeAll(async () => {
  stack = await new ProcessStack().withGateways(2).secured(secrets).start();
}, 90_000);
afterAll(async () => {
  const stopped = await stack?.stop();
  stopped?.removeLogs();
}, 30_000);

const registration = (id: string, port: number) =>
  JSON.stringify({ instance_id: id, service_type: 'grpcserver', ipv4: '127.0.0.1', port, ttl_ms: 60_000 });

async function post(path: string, headers: Record<string, string>, body?: string) {
  const response = await fetch(`${stack.discovererUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: response.status, body: await response.text() };
}

describe('a secured stack', () => {
  it("registers the stack's workers with the token they read from DISCOVERER_TOKEN_FILE", async () => {
    const listed = await listInstances(stack.discovererUrl);
    expect(listed.map((instance) => instance.instance_id).sort()).toEqual([
      'worker-1',
      'worker-2',
      'worker-3',
    ]);
  });

  it('refuses a registration without the token, or with a wrong one, end to end: 401 and nothing listed', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-the-token' }] as Record<string, string>[]) {
      const refused = await post('/v1/register', headers, registration('intruder', 1));
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.body).error.code).toBe('unauthorized');
    }
    // Nor can a worker be unregistered away, or its id pointed at another address without the token.
    expect((await post('/v1/unregister/worker-1', {})).status).toBe(401);
    expect((await post('/v1/register', {}, registration('worker-1', 1))).status).toBe(401);
    const listed = await listInstances(stack.discovererUrl);
    expect(listed.map((instance) => instance.instance_id)).not.toContain('intruder');
    expect(listed.find((instance) => instance.instance_id === 'worker-1')?.port).toBe(
      stack.workerPort('worker-1'),
    );
  });

  it('accepts the token: a registration with it is listed, and the gateway may unregister it', async () => {
    const bearer = { authorization: `Bearer ${secrets.discovererToken}` };
    expect((await post('/v1/register', bearer, registration('extra', 9))).status).toBe(200);
    expect((await listInstances(stack.discovererUrl)).map((i) => i.instance_id)).toContain('extra');
    expect((await post('/v1/unregister/extra', bearer)).status).toBe(200);
  });

  it('a worker with a wrong token logs a clear error and is never listed', async () => {
    const { DISCOVERER_TOKEN_FILE: _file, ...env } = stack.workerSpec('worker-1').env ?? {};
    const spec = stack.workerSpec('worker-1');
    const intruder = ManagedProcess.start({
      name: 'wrong-token-worker',
      command: spec.command,
      args: [...(spec.args ?? [])],
      env: {
        ...env,
        INSTANCE_ID: 'wrong-token-worker',
        SERVICE_PORT_GRPC: '0',
        DISCOVERER_TOKEN: 'not-the-token',
      },
    });
    try {
      await waitFor(() => intruder.stdout().includes("the discoverer refused this worker's token"), {
        description: 'the refused-token error line',
        timeoutMs: 20_000,
      });
      const line = intruder
        .stdout()
        .split('\n')
        .find((text) => text.includes('refused this worker'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({
        level: 50,
        status: 401,
        msg: "the discoverer refused this worker's token: DISCOVERER_TOKEN does not match the discoverer's",
      });
      expect(intruder.stdout()).not.toContain('not-the-token');
      expect((await listInstances(stack.discovererUrl)).map((i) => i.instance_id)).not.toContain(
        'wrong-token-worker',
      );
    } finally {
      await intruder.stop(5_000);
    }
  });

  it('runs a sticky session through both gateways (session store as the gateway ACL user)', async () => {
    const scenario = findScenario('session_transfer');
    if (scenario === undefined) throw new Error('no scenario session_transfer');
    const result = await runScenario(
      scenario,
      { gatewayAddress: stack.gatewayAddress, jwtSecret: stack.jwtSecret, driver: stack, freshStack: true },
      { username: 'TestUser', password: 'TestPassword' },
      () => {},
    );
    expect(result.error).toBeUndefined();
    // Every service is connected as its own ACL user (read here as the admin user), and no ACL
    // check failed on the way.
    const admin = new Redis(stack.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await admin.connect();
      const clients = String(await admin.client('LIST'));
      const users = new Set([...clients.matchAll(/ user=(\S+)/g)].map((match) => match[1]));
      expect([...users].sort()).toEqual(['auth', 'default', 'discoverer', 'gateway']);
      expect(await admin.call('ACL', 'LOG')).toEqual([]);
      expect(await admin.keys('external_user:*')).toEqual(['external_user:TestUser']);
    } finally {
      admin.disconnect();
    }
  }, 60_000);

  it('refuses anonymous Redis clients', async () => {
    const anonymous = new Redis(`redis://127.0.0.1:${stack.redis.port}`, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    anonymous.on('error', () => undefined);
    await expect(anonymous.connect()).rejects.toThrow();
    anonymous.disconnect();
  });

  it('writes no secret to any log, and keeps the token file private', () => {
    const values = Object.values(secrets);
    for (const file of readdirSync(stack.logDir).filter((name) => name.endsWith('.log'))) {
      const text = readFileSync(join(stack.logDir, file), 'utf8');
      for (const secret of values) expect(text.includes(secret), `${file} holds a secret`).toBe(false);
    }
    expect(statSync(stack.discovererTokenFile).mode & 0o777).toBe(0o600);
    // Nor is any written into the gateways' config files (SESSION_STORE_URL carries the password).
    for (const file of readdirSync(stack.logDir).filter((name) => name.endsWith('.yaml'))) {
      const text = readFileSync(join(stack.logDir, file), 'utf8');
      for (const secret of values) expect(text.includes(secret), `${file} holds a secret`).toBe(false);
    }
  });
});
