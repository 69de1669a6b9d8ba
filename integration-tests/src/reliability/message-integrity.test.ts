import type { Client } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { MyServiceAPIClient } from '@stickygw/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedProcessStack } from '../harness/started-process-stack.js';
import {
  echo,
  myServiceClient,
  openSession,
  probeChat,
  probeFlood,
  rawClient,
  type Session,
} from './gateway-clients.js';
import { decodeProbe, type ProbeReply } from './probe-service.js';
import { useFaultStack } from './test-support/use-fault-stack.js';

/**
 * Nothing lost (issue 6): large answers cross the gateway whole, in order, before their status,
 * whatever the sizes and however the bytes are split between the processes. The upstream's trailers
 * often arrive while the gateway is still waiting to write earlier data to the client; the status
 * must follow the data, never overtake it.
 */

const fixture = useFaultStack({ workers: 1, probes: 1 });

let stack: StartedProcessStack;
let client: MyServiceAPIClient;
let raw: Client;
let session: Session;

beforeAll(async () => {
  stack = fixture.stack;
  client = myServiceClient(stack.gatewayAddress);
  raw = rawClient(stack.gatewayAddress);
  session = await openSession(client, `integrity-${Date.now()}`);
});

afterAll(async () => {
  client?.close();
  raw?.close();
});

describe('large answers arrive whole', () => {
  it.each([16_000, 17_000, 65_536, 300_000, 3_000_000])(
    'an Echo of %i bytes comes back intact',
    async (size) => {
      const value = 'v'.repeat(size - 8) + String(size).padStart(8, '0');
      for (let i = 0; i < 3; i++) {
        const outcome = await echo(client, session, 10_000, value);
        expect(outcome.code, outcome.details).toBe(status.OK);
        expect(outcome.value?.client_value.length).toBe(value.length);
        expect(outcome.value?.client_value === value).toBe(true);
      }
    },
  );

  it('a server stream of 60 large messages delivers every one, in order, then OK', async () => {
    const call = probeFlood(raw, session, { count: 60, bytes: 50_000 });
    const seqs: number[] = [];
    const ended = await new Promise<{ code: number; details: string }>((resolve) => {
      call.on('data', (bytes: Buffer) => seqs.push(decodeProbe<ProbeReply>(bytes).seq));
      call.on('status', (s: { code: number; details: string }) => resolve(s));
      call.on('error', () => {});
    });
    expect(ended.code).toBe(status.OK);
    expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it('a bidi stream answering many messages at once ends after the last reply', async () => {
    const chat = probeChat(raw, session, 15_000);
    for (let seq = 0; seq < 200; seq++) chat.send(seq);
    chat.call.end();
    expect(await chat.recorder.untilEnded(15_000)).toEqual({ code: status.OK, details: 'OK' });
    expect(chat.recorder.messages.map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});
