import { type Client, status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { waitFor } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedProcessStack } from '../harness/started-process-stack.js';
import {
  echo,
  myServiceClient,
  openSession,
  probeChat,
  probeUnary,
  rawClient,
  subscribe,
} from './gateway-clients.js';
import { rawTcp } from './raw-http2.js';
import { useFaultStack } from './test-support/use-fault-stack.js';

/**
 * Fault matrix, the gateway itself (issue 6; REFERENCE.md 6.14): SIGTERM while calls run. Calls in
 * flight finish, new calls are refused at once with UNAVAILABLE (on the old connection and on new
 * ones), streams that would never end are closed with UNAVAILABLE when SHUTDOWN_GRACE_MS runs out,
 * and the process exits 0 right after. Nothing hangs.
 */

const GRACE_MS = 2_000;

describe('gateway SIGTERM under load', () => {
  const fixture = useFaultStack({
    workers: 2,
    probes: 2,
    gatewayEnv: { SHUTDOWN_GRACE_MS: String(GRACE_MS) },
  });
  let stack: StartedProcessStack;
  let client: MyServiceAPIClient;
  let raw: Client;

  beforeAll(async () => {
    stack = fixture.stack;
    client = myServiceClient(stack.gatewayAddress);
    raw = rawClient(stack.gatewayAddress);
  });

  afterAll(async () => {
    client?.close();
    raw?.close();
  });

  it('lets in-flight calls finish, refuses new ones with UNAVAILABLE, ends endless streams at the grace, exits 0', async () => {
    const slowSession = await openSession(client, `shutdown-slow-${Date.now()}`);
    const streamSession = await openSession(client, `shutdown-stream-${Date.now()}`);
    const stream = subscribe(client, streamSession);
    await stream.until((s) => s.messages.length >= 1, 5_000, 'the first Subscribe message');
    const chat = probeChat(raw, streamSession);
    chat.send(1);
    await chat.recorder.until((r) => r.messages.length >= 1, 5_000, 'the first chat reply');

    const signalledAt = { value: 0 };
    const slow = Array.from({ length: 5 }, (_, seq) =>
      probeUnary(raw, slowSession, { seq, delayMs: 1_000 }, 10_000).then((outcome) => ({
        ...outcome,
        endedAfterSignal: performance.now() - signalledAt.value,
      })),
    );
    // Sent after the slow calls on the same connection: once it is answered, the gateway has
    // opened their upstream streams.
    expect((await probeUnary(raw, slowSession, { seq: 99 })).code).toBe(status.OK);

    const exited = stack.gateway.process?.exited;
    signalledAt.value = performance.now();
    stack.gateway.signal('SIGTERM');
    // Calls sent before the gateway acted on the signal are in flight, not new: "new" starts once it
    // refuses connections.
    await waitFor(async () => (await rawTcp(stack.gatewayAddress, undefined, 500)).refused, {
      description: 'the gateway to stop accepting connections',
      timeoutMs: 3_000,
      intervalMs: 20,
    });

    const sameConnection = await echo(client, slowSession, 3_000);
    expect(sameConnection.code).toBe(status.UNAVAILABLE);
    expect(sameConnection.ms).toBeLessThan(2_000);
    const freshClient = myServiceClient(stack.gatewayAddress);
    try {
      const newConnection = await echo(freshClient, slowSession, 3_000);
      expect(newConnection.code).toBe(status.UNAVAILABLE);
      expect(newConnection.ms).toBeLessThan(2_000);
    } finally {
      freshClient.close();
    }

    for (const outcome of await Promise.all(slow)) {
      expect(outcome).toMatchObject({ code: status.OK, value: { session: slowSession.sessionId } });
      expect(outcome.endedAfterSignal).toBeLessThan(GRACE_MS);
    }
    expect(await stream.untilEnded(GRACE_MS + 2_000)).toMatchObject({ code: status.UNAVAILABLE });
    expect(await chat.recorder.untilEnded(GRACE_MS + 2_000)).toMatchObject({ code: status.UNAVAILABLE });
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(performance.now() - signalledAt.value).toBeLessThan(GRACE_MS + 1_500);
  });
});
