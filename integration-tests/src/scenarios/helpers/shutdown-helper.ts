import type { MyServiceAPIClient } from '@stickygw/proto';
import { type Credentials, callShutdown } from './grpc-calls.js';
import { check, expectOk } from './status-assertions.js';

/** `MyServiceShutdown` with the reference helper's assertions (REFERENCE.md 7.2). */
export async function shutdown(
  client: MyServiceAPIClient,
  creds: Credentials,
  expectedPod: string,
  timeoutMs?: number,
): Promise<void> {
  const what = `Shutdown (session ${creds.sessionId ?? 'none'})`;
  const response = expectOk(await callShutdown(client, creds, timeoutMs), what);
  check(response.server_session_id !== '', `${what}: empty server_session_id`);
  check(response.client_session_id !== '', `${what}: empty client_session_id`);
  check(response.server_method !== '', `${what}: empty server_method`);
  check(response.pod_name !== '', `${what}: empty pod_name`);
  check(
    response.pod_name === expectedPod,
    `${what}: answered by ${response.pod_name}, expected ${expectedPod}`,
  );
}
