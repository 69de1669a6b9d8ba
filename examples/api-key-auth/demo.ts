import { SignJWT } from 'jose';
import { compiledPath, DemoStack, isMain } from '../shared/demo-stack.js';
import { type CallFailure, callEcho, type EchoReply } from '../shared/echo-service.js';

const JWT_SECRET = 'example-secret';
const GOOD_KEY = 'key-of-team-a';

/** What each call of the demo got, by name. */
export type ApiKeyDemoResult = Record<string, EchoReply | CallFailure>;

/**
 * An API-key route and a JWT route on one gateway: calls with a good key, a wrong key, no key, and
 * on the JWT route without and with a token.
 */
export async function runApiKeyDemo(log: (line: string) => void = () => {}): Promise<ApiKeyDemoResult> {
  const stack = new DemoStack();
  try {
    const publicApi = await stack.backend('public-api');
    const secureApi = await stack.backend('secure-api', { service: 'example.v1.Secure' });
    const keysFile = stack.file('api-keys.txt', `# one key per line\n${GOOD_KEY}\nkey-of-team-b\n`);
    const gateway = await stack.gateway(
      compiledPath('api-key-auth/main'),
      [
        'routes:',
        '  - { prefix: /example.v1.Echo/, cluster: public_api, authorization: none }',
        '  - { prefix: /example.v1.Secure/, cluster: secure_api, authorization: required }',
        'clusters:',
        `  public_api: { type: static, address: "${publicApi}" }`,
        `  secure_api: { type: static, address: "${secureApi}" }`,
      ].join('\n'),
      { API_KEYS_FILE: keysFile, API_KEY_ROUTES: '/example.v1.Echo/', JWT_SECRET },
    );
    log(`gateway from api-key-auth/main.ts on ${gateway.address}`);
    const client = stack.client(gateway.address);
    const token = await new SignJWT({ session_id: 's1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const result: ApiKeyDemoResult = {
      goodKey: await callEcho(client, { metadata: { 'x-api-key': GOOD_KEY } }),
      wrongKey: await callEcho(client, { metadata: { 'x-api-key': 'guessed' } }),
      noKey: await callEcho(client),
      jwtRouteWithoutToken: await callEcho(client, { service: 'example.v1.Secure' }),
      jwtRouteWithToken: await callEcho(client, {
        service: 'example.v1.Secure',
        metadata: { 'session-id': 's1', authorization: `Bearer ${token}` },
      }),
    };
    for (const [name, outcome] of Object.entries(result)) log(`${name}: ${JSON.stringify(outcome)}`);
    return result;
  } finally {
    await stack.close();
  }
}

if (isMain(import.meta.url)) await runApiKeyDemo(console.log);
