import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { ManagedProcess } from '@stickygw/testkit';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessStack } from '../harness/process-stack.js';
import { serverEntry } from '../harness/repo-paths.js';
import { generateStackSecrets } from '../harness/stack-secrets.js';
import type { StartedProcessStack } from '../harness/started-process-stack.js';
import { runScenario } from '../runner/run-scenario.js';
import { callEcho, createClient } from '../scenarios/helpers/grpc-calls.js';
import { findScenario } from '../scenarios/registry.js';

/**
 * A stack in the middle of a JWT secret rotation, every secret distinctive and handed over as a
 * file: auth signs with the current secret, the gateway and the workers also accept the previous
 * one. Secured (discoverer token, Redis ACL users) and at debug level, so that the no-secret check
 * covers as much logging as the stack can produce.
 */
const CURRENT = 'jwt-current-0f5b2c9e7d41a3';
const PREVIOUS = 'jwt-previous-8a6e1d3b9c72f4';
const secrets = generateStackSecrets();
let stack: StartedProcessStack;

beforeAll(async () => {
  stack = await new ProcessStack()
    .withWorkers(2)
    .withJwtSecret(CURRENT)
    .withJwtPreviousSecret(PREVIOUS)
    .withJwtSecretFiles()
    .withLogLevel('debug')
    .secured(secrets)
    .start();
}, 90_000);
afterAll(async () => {
  const stopped = await stack?.stop();
  stopped?.removeLogs();
}, 30_000);

function tokenSignedWith(secret: string, sessionId: string): Promise<string> {
  return new SignJWT({ login: 'TestUser', role: 'admin', session_id: sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
}

/** Tokens the test made; they must not appear in any log either. */
const tokens: string[] = [];

describe('JWT secret rotation', () => {
  it('a token signed with the previous secret passes the gateway and the worker', async () => {
    const sessionId = `rotation-previous-${Date.now()}`;
    const token = await tokenSignedWith(PREVIOUS, sessionId);
    tokens.push(token);
    const throughGateway = await callEcho(createClient(stack.gatewayAddress), { token, sessionId });
    expect(throughGateway.ok, JSON.stringify(throughGateway)).toBe(true);
    const pod = throughGateway.ok ? throughGateway.value.pod_name : '';
    // The worker checks the token again; asked directly it accepts the previous secret as well.
    const direct = await callEcho(createClient(`127.0.0.1:${stack.workerPort(pod)}`), { token, sessionId });
    expect(direct.ok, JSON.stringify(direct)).toBe(true);
  });

  it('a token of a secret no longer (or never) configured gets the reference UNAUTHENTICATED', async () => {
    const sessionId = `rotation-removed-${Date.now()}`;
    const token = await tokenSignedWith('jwt-removed-5d2a7c', sessionId);
    const refused = await callEcho(createClient(stack.gatewayAddress), { token, sessionId });
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error.code).toBe(status.UNAUTHENTICATED);
      expect(refused.error.details).toBe('missing or invalid token');
    }
    const pod = stack.pods()[0] as string;
    const direct = await callEcho(createClient(`127.0.0.1:${stack.workerPort(pod)}`), { token, sessionId });
    expect(direct.ok ? undefined : [direct.error.code, direct.error.details]).toEqual([
      status.UNAUTHENTICATED,
      'invalid token signature',
    ]);
  });
});

describe('no secret is ever logged', () => {
  it('runs basic_workflow, then finds no secret in any process output', async () => {
    const scenario = findScenario('basic_workflow');
    if (scenario === undefined) throw new Error('no scenario basic_workflow');
    const result = await runScenario(
      scenario,
      { gatewayAddress: stack.gatewayAddress, jwtSecret: CURRENT, driver: stack, freshStack: true },
      { username: 'TestUser', password: 'TestPassword' },
      () => {},
    );
    expect(result.error).toBeUndefined();
    const processes = stack.processes();
    expect(processes.map((process) => process.name)).toEqual(
      expect.arrayContaining(['redis', 'discoverer', 'auth', 'worker-1', 'worker-2', 'gateway']),
    );
    const distinctive = [CURRENT, PREVIOUS, ...Object.values(secrets), ...tokens];
    for (const process of processes) {
      const output = process.output();
      expect(output.length, `${process.name} logged nothing at all`).toBeGreaterThan(0);
      for (const secret of distinctive) {
        expect(output.includes(secret), `${process.name} logged a secret`).toBe(false);
      }
    }
  }, 60_000);

  it.each([
    ['auth', { SERVICE_PORT_GRPC: '1' }],
    [
      'service',
      { MY_DISCOVERER_URL: 'http://127.0.0.1:1', INSTANCE_ID: 'w', DISCOVERABLE_HOST: '127.0.0.1' },
    ],
    [
      'gateway',
      { SERVICE_PORT_GRPC: '1', CONFIG_PATH: 'none.yaml', RETRY_COUNT: '1', RETRY_TIMEOUT_MS: '1' },
    ],
  ] as const)(
    '%s refuses JWT_SECRET beside JWT_SECRET_FILE, naming them, echoing neither secret',
    async (workspace, env) => {
      const dir = mkdtempSync(join(tmpdir(), 'jwt-refusal-'));
      const file = join(dir, 'secret');
      writeFileSync(file, 'jwt-from-file-3e9a1c\n');
      const refused = ManagedProcess.start({
        name: `${workspace}-refusal`,
        command: process.execPath,
        args: [serverEntry(workspace)],
        env: { ...env, JWT_SECRET: 'jwt-inline-7b4d2f', JWT_SECRET_FILE: file },
      });
      try {
        const exit = await refused.waitForExit(30_000);
        expect(exit.code).not.toBe(0);
        const output = refused.output();
        expect(output).toContain('JWT_SECRET and JWT_SECRET_FILE are both set');
        expect(output).not.toContain('jwt-inline-7b4d2f');
        expect(output).not.toContain('jwt-from-file-3e9a1c');
      } finally {
        await refused.stop(2_000);
      }
    },
    40_000,
  );
});
