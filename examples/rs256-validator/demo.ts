import type * as grpc from '@grpc/grpc-js';
import { waitFor } from '@stickygw/testkit';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { compiledPath, DemoStack, isMain } from '../shared/demo-stack.js';
import { type CallFailure, callEcho, type EchoReply, isFailure } from '../shared/echo-service.js';

export type Rs256DemoResult = Record<string, EchoReply | CallFailure>;

interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  readonly jwk: JWK;
}

async function signingKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function token(key: SigningKey, session: string, expiresIn = '5m'): Promise<string> {
  return new SignJWT({ session_id: session })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setExpirationTime(expiresIn)
    .sign(key.privateKey);
}

const jwks = (...keys: SigningKey[]): string => JSON.stringify({ keys: keys.map((key) => key.jwk) }, null, 2);

function call(client: grpc.Client, bearer: string): Promise<EchoReply | CallFailure> {
  return callEcho(client, { metadata: { 'session-id': 's1', authorization: `Bearer ${bearer}` } });
}

/** RS256 and ES256 tokens against a JWKS file, then a rotation: key k2 replaces k1. */
export async function runRs256Demo(log: (line: string) => void = () => {}): Promise<Rs256DemoResult> {
  const stack = new DemoStack();
  try {
    const [k1, k2, e1] = await Promise.all([
      signingKey('k1', 'RS256'),
      signingKey('k2', 'RS256'),
      signingKey('e1', 'ES256'),
    ]);
    const backend = await stack.backend('secure-api');
    const jwksPath = stack.file('jwks.json', jwks(k1, e1));
    const gateway = await stack.gateway(
      compiledPath('rs256-validator/main'),
      [
        'routes:',
        '  - { prefix: /example.v1.Echo/, cluster: api, authorization: required }',
        'clusters:',
        `  api: { type: static, address: "${backend}" }`,
      ].join('\n'),
      { JWKS_PATH: jwksPath, JWKS_REFRESH_MS: '100' },
    );
    log(`gateway from rs256-validator/main.ts on ${gateway.address}, keys in ${jwksPath}`);
    const client = stack.client(gateway.address);
    const k1Token = await token(k1, 's1');
    const k2Token = await token(k2, 's1');
    const result: Rs256DemoResult = {
      rs256KnownKid: await call(client, k1Token),
      es256KnownKid: await call(client, await token(e1, 's1')),
      unknownKid: await call(client, k2Token),
      otherSession: await call(client, await token(k1, 's2')),
      expired: await call(client, await token(k1, 's1', '-1m')),
      forgedKid: await call(client, await token({ ...k2, kid: 'k1' }, 's1')),
    };
    stack.file('jwks.json', jwks(k2, e1));
    await waitFor(async () => !isFailure(await call(client, k2Token)), {
      description: 'the gateway to accept k2 after the rotation',
      timeoutMs: 20_000,
    });
    result.afterRotationNewKid = await call(client, k2Token);
    result.afterRotationOldKid = await call(client, k1Token);
    for (const [name, outcome] of Object.entries(result)) log(`${name}: ${JSON.stringify(outcome)}`);
    return result;
  } finally {
    await stack.close();
  }
}

if (isMain(import.meta.url)) await runRs256Demo(console.log);
