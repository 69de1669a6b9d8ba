import type { MyServiceAPIClient } from '@stickygw/proto';
import { ECHO_VALUE, SERVER_VALUE } from './constants.js';
import { type Credentials, callEcho } from './grpc-calls.js';
import { check, expectOk } from './status-assertions.js';

/**
 * `MyServiceEcho` with the reference helper's assertions (REFERENCE.md 7.2); with `expectedPod`
 * the answer must come from that pod. Returns the `pod_name` that answered.
 */
export async function echo(
  client: MyServiceAPIClient,
  creds: Credentials,
  expectedPod?: string,
): Promise<string> {
  const what = `Echo (session ${creds.sessionId ?? 'none'})`;
  const response = expectOk(await callEcho(client, creds), what);
  checkEchoResponse(what, response, expectedPod);
  return response.pod_name;
}

export interface EchoLike {
  readonly client_value: string;
  readonly server_value: string;
  readonly pod_name: string;
  readonly server_session_id: string;
  readonly client_session_id: string;
  readonly index: number;
  readonly server_method: string;
}

export function checkEchoResponse(what: string, response: EchoLike, expectedPod?: string): void {
  check(
    response.client_value === ECHO_VALUE,
    `${what}: client_value ${JSON.stringify(response.client_value)}, expected ${JSON.stringify(ECHO_VALUE)}`,
  );
  check(
    response.server_value === SERVER_VALUE,
    `${what}: server_value ${JSON.stringify(response.server_value)}, expected ${JSON.stringify(SERVER_VALUE)}`,
  );
  check(response.client_session_id !== '', `${what}: empty client_session_id`);
  check(response.server_session_id !== '', `${what}: empty server_session_id`);
  check(response.index === 0, `${what}: index ${response.index}, expected 0`);
  check(response.server_method !== '', `${what}: empty server_method`);
  check(response.pod_name !== '', `${what}: empty pod_name`);
  if (expectedPod !== undefined) {
    check(
      response.pod_name === expectedPod,
      `${what}: sticky session violation: answered by ${response.pod_name}, expected ${expectedPod}`,
    );
  }
}
