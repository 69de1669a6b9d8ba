import { createHmac, generateKeyPairSync } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StartedProcessStack } from '../harness/started-process-stack.js';
import { echo, myServiceClient, openSession, type Session } from './gateway-clients.js';
import { grpcFrame, grpcStatusOf, rawRequest } from './raw-http2.js';
import { useFaultStack } from './test-support/use-fault-stack.js';

/**
 * Hostile tokens (issue 6; REFERENCE.md 3.4, 6.5) against the whole stack: each is refused by the
 * gateway itself with UNAUTHENTICATED `missing or invalid token` (the worker's own refusals have
 * other messages), promptly, and after each one a real session is still served.
 */

const INVALID = { code: status.UNAUTHENTICATED, details: 'missing or invalid token' };
const SESSION = 'hostile-token-session';

const fixture = useFaultStack({ workers: 1 });

let stack: StartedProcessStack;
let client: MyServiceAPIClient;
let valid: Session;
let secret: Uint8Array;

beforeAll(async () => {
  stack = fixture.stack;
  client = myServiceClient(stack.gatewayAddress);
  valid = await openSession(client, `real-session-${Date.now()}`);
  secret = new TextEncoder().encode(stack.jwtSecret);
});

afterEach(async () => {
  expect(await echo(client, valid)).toMatchObject({
    code: status.OK,
    value: { server_session_id: valid.sessionId },
  });
});

afterAll(async () => {
  client?.close();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    login: 'TestUser',
    role: 'admin',
    session_id: SESSION,
    iat: nowSeconds(),
    exp: nowSeconds() + 600,
    ...overrides,
  };
}

function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

async function hs256(payload: Record<string, unknown>, key = secret, alg = 'HS256'): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
}

describe('tokens the gateway refuses', () => {
  const cases: Array<[string, () => Promise<string>]> = [
    ['alg none, unsigned', async () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims())}.`],
    [
      'alg none with the real signature',
      async () => {
        const [, payload, signature] = (await hs256(claims())).split('.');
        return `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`;
      },
    ],
    [
      'RS256 (HS/RS confusion: a key pair of the attacker)',
      async () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
      },
    ],
    [
      'HS256 keyed with an RSA public key (the classic confusion attack)',
      async () => {
        const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
        return hs256(claims(), new TextEncoder().encode(pem));
      },
    ],
    ['HS512 with the right secret', () => hs256(claims(), secret, 'HS512')],
    ['a wrong secret', () => hs256(claims(), new TextEncoder().encode(`${stack.jwtSecret}x`))],
    ['expired', () => hs256(claims({ iat: nowSeconds() - 120, exp: nowSeconds() - 60 }))],
    ['not yet valid (nbf in the future)', () => hs256(claims({ nbf: nowSeconds() + 600 }))],
    ['without exp', () => hs256(claims({ exp: undefined }))],
    ['without session_id', () => hs256(claims({ session_id: undefined }))],
    ['with a numeric session_id', () => hs256(claims({ session_id: 42 }))],
    ['for another session', () => hs256(claims({ session_id: 'someone-else' }))],
    [
      'with a tampered payload (same signature)',
      async () => {
        const [header, , signature] = (await hs256(claims({ role: 'user' }))).split('.');
        return `${header}.${b64url(claims({ role: 'admin' }))}.${signature}`;
      },
    ],
    [
      'with a tampered header (same signature)',
      async () => {
        const [, payload, signature] = (await hs256(claims())).split('.');
        return `${b64url({ alg: 'HS256', typ: 'JWT', kid: 'x' })}.${payload}.${signature}`;
      },
    ],
    [
      'with a crit header (an extension the gateway cannot honour)',
      async () => {
        const signingInput = `${b64url({ alg: 'HS256', typ: 'JWT', crit: ['x-ext'], 'x-ext': true })}.${b64url(claims())}`;
        const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
        return `${signingInput}.${signature}`;
      },
    ],
    ['with padding in the signature', async () => `${await hs256(claims())}=`],
    ['with four parts', async () => `${await hs256(claims())}.extra`],
    ['garbage', async () => 'not-a-token'],
    ['only dots', async () => '..'],
    ['whitespace', async () => '   '],
    ['absurdly long (60 KB)', async () => `${await hs256(claims())}${'A'.repeat(60_000)}`],
    ['a valid token with a 30 KB claim', () => hs256(claims({ padding: 'p'.repeat(30_000) }))],
  ];

  it.each(cases)('%s → UNAUTHENTICATED "missing or invalid token"', async (_name, make) => {
    const token = await make();
    const outcome = await echo(client, { sessionId: SESSION, token }, 5_000);
    expect({ code: outcome.code, details: outcome.details }).toEqual(INVALID);
    expect(outcome.ms).toBeLessThan(1_000);
  });

  it('a real token is refused for another session id, and without session-id', async () => {
    const other = await echo(client, { sessionId: SESSION, token: valid.token });
    expect({ code: other.code, details: other.details }).toEqual(INVALID);
    const missing = await echo(client, { token: valid.token });
    expect({ code: missing.code, details: missing.details }).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'missing session-id',
    });
  });

  it('a token too large for the header limit is refused at the transport, not by a worker', async () => {
    const answer = await rawRequest(
      stack.gatewayAddress,
      {
        ':method': 'POST',
        ':path': '/my_service.MyServiceAPI/MyServiceEcho',
        'content-type': 'application/grpc',
        te: 'trailers',
        'session-id': valid.sessionId,
        authorization: `${valid.token}.${'A'.repeat(20_000)}`,
        'x-more': 'm'.repeat(50_000),
      },
      grpcFrame(Buffer.from([0x0a, 1, 0x61])),
    );
    expect(grpcStatusOf(answer)?.code).toBe(status.RESOURCE_EXHAUSTED);
  });
});
