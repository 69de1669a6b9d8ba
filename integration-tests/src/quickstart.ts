#!/usr/bin/env node
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadMyServiceProto } from '@stickygw/proto';

/**
 * The README's quickstart: Login through the gateway, then MyServiceEcho with the token and the
 * session id, printing both responses. GATEWAY_ADDR (default 127.0.0.1:10000), TEST_USERNAME,
 * TEST_PASSWORD and SESSION_ID override the defaults. The default session id is fixed on purpose:
 * a worker serves one session for its whole life, so reusing it keeps the quickstart repeatable.
 */

const gateway = process.env.GATEWAY_ADDR || '127.0.0.1:10000';
const username = process.env.TEST_USERNAME || 'TestUser';
const password = process.env.TEST_PASSWORD || 'TestPassword';
const sessionId = process.env.SESSION_ID || 'quickstart-session';

const proto = loadMyServiceProto();
const client = new proto.my_service.MyServiceAPI(gateway, credentials.createInsecure());

function fail(what: string, error: ServiceError): never {
  console.error(`${what} failed: ${error.code} ${error.details}`);
  client.close();
  process.exit(1);
}

const deadline = () => ({ deadline: Date.now() + 10_000 });

const login = await new Promise<{ token: string }>((resolve) => {
  client.Login(
    { username, password, session_id: sessionId },
    new Metadata(),
    deadline(),
    (error, response) => {
      if (error || response === undefined) fail(`Login via ${gateway}`, error as ServiceError);
      resolve(response);
    },
  );
});
console.log('Login response:', JSON.stringify(login, null, 2));

const metadata = new Metadata();
metadata.set('authorization', login.token);
metadata.set('session-id', sessionId);
const echo = await new Promise<unknown>((resolve) => {
  client.MyServiceEcho({ value: 'hello from the quickstart' }, metadata, deadline(), (error, response) => {
    if (error || response === undefined) fail('MyServiceEcho', error as ServiceError);
    resolve(response);
  });
});
console.log('MyServiceEcho response:', JSON.stringify(echo, null, 2));
client.close();
