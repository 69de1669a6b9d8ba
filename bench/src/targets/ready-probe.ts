import type { ManagedProcess } from '@stickygw/testkit';
import { type CallResult, callGrpc, connectH2, describeOutcome } from '../grpc-client.js';

/** One call on a fresh connection, which is closed afterwards. */
async function callOnce(
  port: number,
  path: string,
  body: Buffer,
  headers: Readonly<Record<string, string>> = {},
): Promise<CallResult> {
  const session = await connectH2(port, 2_000);
  try {
    return await callGrpc(session, { path, body, headers, timeoutMs: 3_000, keepBody: true });
  } finally {
    session.close();
  }
}

/**
 * Waits until a call through `port` comes back with grpc-status 0 and the request echoed, failing at
 * once if `owner` exits. This is both readiness and a correctness check: a target that answers but
 * does not echo must not be measured.
 */
export async function awaitEcho(
  owner: ManagedProcess | undefined,
  port: number,
  path: string,
  body: Buffer,
  headers: Readonly<Record<string, string>> = {},
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    if (owner !== undefined && !owner.running) {
      throw new Error(`${owner.name} exited before it answered\n${owner.describeOutput()}`);
    }
    try {
      const result = await callOnce(port, path, body, headers);
      if (result.grpcStatus === 0 && result.body?.equals(body) === true) return;
      last =
        result.grpcStatus === 0
          ? `grpc-status 0 but ${result.bodyBytes} bytes instead of the ${body.length} sent`
          : `${describeOutcome(result)} "${result.grpcMessage ?? ''}"`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() >= deadline) {
      const output = owner === undefined ? '' : `\n${owner.describeOutput()}`;
      throw new Error(
        `no echo through 127.0.0.1:${port}${path} within ${timeoutMs} ms (last: ${last})${output}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
