import type { Client } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { waitFor } from '@stickygw/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StartedProcessStack } from '../harness/started-process-stack.js';
import {
  echo,
  myServiceClient,
  openSession,
  probeChat,
  probeCollect,
  probeUnary,
  rawClient,
  type Session,
  subscribe,
} from './gateway-clients.js';
import { unreadBytesAt } from './socket-queues.js';
import { useFaultStack } from './test-support/use-fault-stack.js';

/**
 * Fault matrix, instance deaths (issue 6): an instance SIGKILLed during a unary call, a server stream,
 * a client stream, a bidi stream, and while idle between two calls of its bound session. Each case
 * asserts the exact outcome the client sees (the transfer of REFERENCE.md 6.12 as the rewrite extends
 * it, or UNAVAILABLE `backend service unavailable`), never a hang or a generic INTERNAL, and that
 * the session's later calls land on a live instance. One stack serves the describe: each case binds
 * fresh sessions, and the instances it kills are started again (fresh processes) for the next one.
 */

const UNAVAILABLE = { code: status.UNAVAILABLE, details: 'backend service unavailable' };

// Each case leaves one instance bound to its session for good (workers never release sessions).
const fixture = useFaultStack({ workers: 5, probes: 5 });

let stack: StartedProcessStack;
let client: MyServiceAPIClient;
let raw: Client;
let counter = 0;
const killed: string[] = [];

beforeAll(async () => {
  stack = fixture.stack;
  client = myServiceClient(stack.gatewayAddress);
  raw = rawClient(stack.gatewayAddress);
});

afterAll(async () => {
  client?.close();
  raw?.close();
});

afterEach(async () => {
  // Killed instances come back as fresh processes (no session) so the next case has capacity.
  await Promise.all(killed.splice(0).map((pod) => stack.restart(pod)));
});

function newSession(): Promise<Session> {
  counter++;
  return openSession(client, `worker-faults-${counter}-${Date.now()}`);
}

/** Freezes `pod` (SIGSTOP) so a call sent to it stays in flight until the kill. */
function freeze(pod: string): void {
  stack.instance(pod).signal('SIGSTOP');
}

/** Waits until request bytes have reached the frozen `pod`'s socket: the call is in flight there. */
async function untilDelivered(pod: string): Promise<void> {
  const port = stack.instance(pod).port;
  await waitFor(() => unreadBytesAt(port) > 0, {
    description: `request bytes to reach ${pod}`,
    timeoutMs: 5_000,
    intervalMs: 10,
  });
}

async function kill(pod: string): Promise<void> {
  killed.push(pod);
  await stack.kill(pod);
}

describe('a worker SIGKILLed', () => {
  it('during a unary call: the call is transferred and answered OK by another worker; the session stays there', async () => {
    const session = await newSession();
    const first = await echo(client, session);
    expect(first.code).toBe(status.OK);
    const podA = first.value?.pod_name as string;

    freeze(podA);
    const inFlight = echo(client, session, 10_000, 'in flight');
    await untilDelivered(podA);
    await kill(podA);

    const transferred = await inFlight;
    expect(transferred).toMatchObject({ code: status.OK });
    expect(transferred.value).toMatchObject({
      client_value: 'in flight',
      server_session_id: session.sessionId,
    });
    const podB = transferred.value?.pod_name;
    expect(podB).not.toBe(podA);
    expect(transferred.ms).toBeLessThan(5_000);

    for (let i = 0; i < 3; i++) {
      const later = await echo(client, session);
      expect(later).toMatchObject({ code: status.OK, value: { pod_name: podB } });
    }
  });

  it('during a server stream: Subscribe goes on with messages from another worker (index restarting at 0)', async () => {
    const session = await newSession();
    const stream = subscribe(client, session, 20_000);
    await stream.until((s) => s.messages.length >= 2, 5_000, 'two messages');
    const podA = stream.messages[0]?.pod_name as string;
    expect(stream.messages.map((m) => m.index)).toEqual(stream.messages.map((_, i) => i));

    const before = stream.messages.length;
    await kill(podA);
    const fromOthers = () => stream.messages.slice(before).filter((m) => m.pod_name !== podA);
    await stream.until(() => fromOthers().length >= 2, 10_000, 'two messages from another worker');
    expect(stream.ended).toBeUndefined();
    const moved = fromOthers();
    const podB = moved[0]?.pod_name as string;
    expect(moved.map((m) => m.index).slice(0, 2)).toEqual([0, 1]);
    expect(moved.every((m) => m.pod_name === podB && m.server_session_id === session.sessionId)).toBe(true);
    stream.call.cancel();

    expect(await echo(client, session)).toMatchObject({ code: status.OK, value: { pod_name: podB } });
  });

  it('while idle between two calls: the next call lands OK on another worker and the session stays there', async () => {
    const session = await newSession();
    const first = await echo(client, session);
    const podA = first.value?.pod_name as string;
    await kill(podA);

    const next = await echo(client, session);
    expect(next).toMatchObject({ code: status.OK, value: { server_session_id: session.sessionId } });
    const podB = next.value?.pod_name;
    expect(podB).not.toBe(podA);
    expect(await echo(client, session)).toMatchObject({ code: status.OK, value: { pod_name: podB } });
  });
});

describe('a probe instance SIGKILLed (client streaming and bidi)', () => {
  it('during a slow unary call: transferred and answered OK by another instance', async () => {
    const session = await newSession();
    const first = await probeUnary(raw, session, { seq: 1 });
    const podA = first.value?.pod as string;
    freeze(podA);
    const inFlight = probeUnary(raw, session, { seq: 2 }, 10_000);
    await untilDelivered(podA);
    await kill(podA);
    const answer = await inFlight;
    expect(answer).toMatchObject({ code: status.OK, value: { seq: 2, session: session.sessionId } });
    expect(answer.value?.pod).not.toBe(podA);
  });

  it('during a client stream: every message is replayed to another instance and later ones follow', async () => {
    const session = await newSession();
    const podA = (await probeUnary(raw, session, { seq: 0 })).value?.pod as string;
    freeze(podA);
    const collect = probeCollect(raw, session, 15_000);
    for (const seq of [0, 1, 2]) collect.send(seq);
    await untilDelivered(podA);
    await kill(podA);
    for (const seq of [3, 4]) collect.send(seq);

    const reply = await collect.finish();
    expect(reply).toMatchObject({
      code: status.OK,
      value: { kind: 'collect', seqs: [0, 1, 2, 3, 4], session: session.sessionId },
    });
    expect(reply.value?.pod).not.toBe(podA);
  });

  it('during a bidi stream before any response: replayed to another instance, nothing lost or repeated', async () => {
    const session = await newSession();
    const podA = (await probeUnary(raw, session, { seq: 0 })).value?.pod as string;
    freeze(podA);
    const chat = probeChat(raw, session, 15_000);
    chat.send(0, false);
    chat.send(1, false);
    await untilDelivered(podA);
    await kill(podA);
    chat.send(2);
    await chat.recorder.until(
      (r) => r.messages.length >= 1 || r.ended !== undefined,
      10_000,
      'the reply to message 2',
    );
    chat.send(3);
    await chat.recorder.until(
      (r) => r.messages.length >= 2 || r.ended !== undefined,
      10_000,
      'the reply to message 3',
    );
    chat.call.end();
    expect(await chat.recorder.untilEnded(10_000)).toEqual({ code: status.OK, details: 'OK' });

    const [second, third] = chat.recorder.messages;
    expect(second).toMatchObject({ seq: 2, seqs: [0, 1, 2], session: session.sessionId });
    expect(third).toMatchObject({ seq: 3, seqs: [0, 1, 2, 3], pod: second?.pod });
    expect(second?.pod).not.toBe(podA);
  });

  it('during a bidi stream after a response reached the client: UNAVAILABLE, and the next call lands on a live instance', async () => {
    const session = await newSession();
    const chat = probeChat(raw, session, 15_000);
    chat.send(0);
    await chat.recorder.until((r) => r.messages.length >= 1, 5_000, 'the first reply');
    const podA = chat.recorder.messages[0]?.pod as string;
    await kill(podA);

    const ended = await chat.recorder.untilEnded(10_000);
    expect(ended).toEqual(UNAVAILABLE);
    const next = await probeUnary(raw, session, { seq: 9 });
    expect(next).toMatchObject({ code: status.OK, value: { seq: 9, session: session.sessionId } });
    expect(next.value?.pod).not.toBe(podA);
  });
});
