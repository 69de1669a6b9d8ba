import {
  type ClientReadableStream,
  credentials,
  type Metadata,
  makeGenericClientConstructor,
  status,
} from '@grpc/grpc-js';
import type { EchoResponse__Output, MyServiceAPIClient } from '@stickygw/proto';
import { waitFor } from '@stickygw/testkit';
import { service as healthService } from 'grpc-health-check';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signToken, unsecuredToken, withPayload } from '../test-support/tokens.js';
import { callMetadata, createWorkerClient, echo, shutdown } from '../test-support/worker-client.js';
import { type StartedWorkerServer, startWorkerServer } from './worker-server.js';

const SECRET = 'worker-server-test-secret';
const INSTANCE_ID = 'worker-test-1';

let server: StartedWorkerServer;
let client: MyServiceAPIClient;
let onShutdownRequested: ReturnType<typeof vi.fn<() => void>>;

async function start(subscribeIntervalMs = 30): Promise<void> {
  onShutdownRequested = vi.fn<() => void>();
  server = await startWorkerServer({
    instanceId: INSTANCE_ID,
    jwtSecret: SECRET,
    subscribeIntervalMs,
    listenHost: '127.0.0.1',
    port: 0,
    logger: pino({ level: 'silent' }),
    onShutdownRequested,
  });
  client = createWorkerClient(server.port);
}

async function authed(sessionId: string): Promise<Metadata> {
  return callMetadata(await signToken({ secret: SECRET, sessionId }), sessionId);
}

beforeEach(async () => {
  await start();
});

afterEach(async () => {
  client.close();
  await server.stop(0);
});

describe('MyServiceEcho', () => {
  it('answers with the reference fields and binds the session', async () => {
    const result = await echo(client, 'integration-test-echo', await authed('s1'));
    expect(result).toEqual({
      ok: true,
      value: {
        client_value: 'integration-test-echo',
        server_value: 'my_service',
        pod_name: INSTANCE_ID,
        server_session_id: 's1',
        client_session_id: 's1',
        index: 0,
        server_method: 'MyServiceEcho',
      },
    });
    expect(server.session.current()).toBe('s1');
  });

  it('echoes an empty value unchanged', async () => {
    const result = await echo(client, '', await authed('s1'));
    expect(result.ok && result.value.client_value).toBe('');
  });

  it('serves the same session again', async () => {
    const metadata = await authed('s1');
    expect((await echo(client, 'one', metadata)).ok).toBe(true);
    const second = await echo(client, 'two', metadata);
    expect(second.ok && second.value).toMatchObject({ client_value: 'two', server_session_id: 's1' });
  });

  it('refuses a second session with the conflict message', async () => {
    expect((await echo(client, 'v', await authed('s1'))).ok).toBe(true);
    expect(await echo(client, 'v', await authed('s2'))).toEqual({
      ok: false,
      code: status.INTERNAL,
      message: 'Session conflict: was=s1, now=s2',
    });
    expect(server.session.current()).toBe('s1');
  });

  it('refuses a call without session-id in the token check (the token never matches a missing header)', async () => {
    const token = await signToken({ secret: SECRET, sessionId: 's1' });
    expect(await echo(client, 'v', callMetadata(token, undefined))).toEqual({
      ok: false,
      code: status.UNAUTHENTICATED,
      message: 'session_id mismatch',
    });
    expect(await echo(client, 'v', callMetadata(token, ''))).toEqual({
      ok: false,
      code: status.UNAUTHENTICATED,
      message: 'session_id mismatch',
    });
    expect(server.session.current()).toBeUndefined();
  });

  it('uses the first value of a repeated metadata key', async () => {
    const metadata = await authed('s1');
    metadata.add('session-id', 's2');
    const result = await echo(client, 'v', metadata);
    expect(result.ok && result.value.client_session_id).toBe('s1');
  });

  it('binds exactly one of 50 concurrent first calls from different sessions', async () => {
    const sessions = Array.from({ length: 50 }, (_, i) => `race-${i}`);
    const metadata = await Promise.all(sessions.map((session) => authed(session)));
    const results = await Promise.all(metadata.map((md) => echo(client, 'race', md)));

    const winners = results.flatMap((result) => (result.ok ? [result.value.client_session_id] : []));
    expect(winners).toHaveLength(1);
    const [winner] = winners;
    expect(server.session.current()).toBe(winner);
    results.forEach((result, i) => {
      if (sessions[i] === winner) return;
      expect(result).toEqual({
        ok: false,
        code: status.INTERNAL,
        message: `Session conflict: was=${winner}, now=${sessions[i]}`,
      });
    });
  });
});

describe('token check', () => {
  const refused = (message: string) => ({ ok: false, code: status.UNAUTHENTICATED, message });
  const futureExp = () => Math.floor(Date.now() / 1000) + 3600;

  it.each([
    ['missing authorization', async () => callMetadata(undefined, 's1'), 'missing or invalid authorization'],
    ['blank authorization', async () => callMetadata('   ', 's1'), 'missing or invalid authorization'],
    ['not a JWT', async () => callMetadata('invalid_token_format_12345', 's1'), 'invalid token format'],
    [
      'alg none',
      async () => callMetadata(unsecuredToken({ session_id: 's1', exp: futureExp() }), 's1'),
      'invalid token format',
    ],
    [
      'wrong secret',
      async () => callMetadata(await signToken({ secret: 'not-the-secret', sessionId: 's1' }), 's1'),
      'invalid token signature',
    ],
    [
      'tampered payload',
      async () => {
        const token = await signToken({ secret: SECRET, sessionId: 's1' });
        return callMetadata(withPayload(token, { session_id: 'mallory', exp: futureExp() }), 'mallory');
      },
      'invalid token signature',
    ],
    [
      'expired',
      async () =>
        callMetadata(
          await signToken({ secret: SECRET, sessionId: 's1', exp: Math.floor(Date.now() / 1000) - 5 }),
          's1',
        ),
      'token expired',
    ],
    [
      'session mismatch',
      async () => callMetadata(await signToken({ secret: SECRET, sessionId: 's1' }), 's2'),
      'session_id mismatch',
    ],
  ])('refuses %s on MyServiceEcho without binding', async (_label, metadata, message) => {
    expect(await echo(client, 'v', await metadata())).toEqual(refused(message));
    expect(server.session.current()).toBeUndefined();
  });

  it('guards MyServiceShutdown before its own checks', async () => {
    expect(await shutdown(client, callMetadata(undefined, 's1'))).toEqual(
      refused('missing or invalid authorization'),
    );
  });

  it('guards MyServiceSubscribe before binding', async () => {
    const stream = client.MyServiceSubscribe({ value: 'v' }, callMetadata('nope', 's1'));
    expect(await collect(stream, 1)).toEqual({
      messages: [],
      error: { code: status.UNAUTHENTICATED, message: 'invalid token format' },
    });
    expect(server.session.current()).toBeUndefined();
  });

  it('leaves the health service unchecked', async () => {
    const Health = makeGenericClientConstructor(healthService, 'Health');
    const health = new Health(`127.0.0.1:${server.port}`, credentials.createInsecure());
    try {
      for (const name of ['', 'my_service.MyServiceAPI']) {
        const response = await new Promise((resolve, reject) => {
          health.Check({ service: name }, (error: Error | null, value: unknown) =>
            error ? reject(error) : resolve(value),
          );
        });
        expect(response).toEqual({ status: 'SERVING' });
      }
    } finally {
      health.close();
    }
  });
});

describe('MyServiceSubscribe', () => {
  it('sends the first message at once, then one per interval with index 0, 1, 2', async () => {
    const stream = client.MyServiceSubscribe({ value: 'integration-test-echo' }, await authed('s1'));
    const { messages } = await collect(stream, 3);
    expect(messages).toEqual(
      [0, 1, 2].map((index) => ({
        client_value: 'integration-test-echo',
        server_value: 'my_service',
        pod_name: INSTANCE_ID,
        server_session_id: 's1',
        client_session_id: 's1',
        index,
        server_method: 'MyServiceSubscribe',
      })),
    );
    await waitFor(() => server.activeSubscriptions() === 0, {
      description: 'the subscription timer to stop',
    });
  });

  it('does not wait for the interval before the first message', async () => {
    client.close();
    await server.stop(0);
    await start(60_000);
    const startedAt = Date.now();
    const stream = client.MyServiceSubscribe({ value: 'v' }, await authed('s1'));
    const { messages } = await collect(stream, 1);
    expect(messages.map((m) => m.index)).toEqual([0]);
    expect(Date.now() - startedAt).toBeLessThan(5000);
  });

  it('stops its timer when the client cancels, and keeps the session bound', async () => {
    const stream = client.MyServiceSubscribe({ value: 'v' }, await authed('s1'));
    await collect(stream, 1, { cancel: false });
    expect(server.activeSubscriptions()).toBe(1);
    stream.cancel();
    await waitFor(() => server.activeSubscriptions() === 0, {
      description: 'the subscription timer to stop',
    });
    expect(server.session.current()).toBe('s1');
  });

  it('is cut off by stop() once the grace period is over', async () => {
    const stream = client.MyServiceSubscribe({ value: 'v' }, await authed('s1'));
    const failed = new Promise<number>((resolve) =>
      stream.on('error', (error: { code: number }) => resolve(error.code)),
    );
    stream.on('data', () => {});
    await waitFor(() => server.activeSubscriptions() === 1, { description: 'the subscription to start' });
    await server.stop(50);
    expect(await failed).not.toBe(status.OK);
    await waitFor(() => server.activeSubscriptions() === 0, {
      description: 'the subscription timer to stop',
    });
  });

  it('returns a session conflict as the status, before any message', async () => {
    expect((await echo(client, 'v', await authed('s1'))).ok).toBe(true);
    const stream = client.MyServiceSubscribe({ value: 'v' }, await authed('s2'));
    expect(await collect(stream, 1)).toEqual({
      messages: [],
      error: { code: status.INTERNAL, message: 'Session conflict: was=s1, now=s2' },
    });
    expect(server.activeSubscriptions()).toBe(0);
  });
});

describe('MyServiceShutdown', () => {
  it('refuses when no session is bound, and does not bind', async () => {
    expect(await shutdown(client, await authed('s1'))).toEqual({
      ok: false,
      code: status.PERMISSION_DENIED,
      message: 'Server session is not set',
    });
    expect(server.session.current()).toBeUndefined();
    expect((await echo(client, 'v', await authed('s2'))).ok).toBe(true);
    expect(onShutdownRequested).not.toHaveBeenCalled();
  });

  it('refuses another session', async () => {
    expect((await echo(client, 'v', await authed('s1'))).ok).toBe(true);
    expect(await shutdown(client, await authed('s3'))).toEqual({
      ok: false,
      code: status.PERMISSION_DENIED,
      message: 'Client session mismatch: client=s3, server=s1',
    });
    expect(onShutdownRequested).not.toHaveBeenCalled();
  });

  it('answers the bound session, then asks for the process to end', async () => {
    expect((await echo(client, 'v', await authed('s1'))).ok).toBe(true);
    expect(await shutdown(client, await authed('s1'))).toEqual({
      ok: true,
      value: {
        pod_name: INSTANCE_ID,
        server_session_id: 's1',
        client_session_id: 's1',
        index: 0,
        server_method: 'MyServiceShutdown',
      },
    });
    expect(onShutdownRequested).toHaveBeenCalledTimes(1);
  });
});

it('does not serve Login (the auth service does)', async () => {
  const result = await new Promise<{ code: number }>((resolve) => {
    client.Login({ username: 'TestUser', password: 'TestPassword', session_id: 's1' }, (error) =>
      resolve({ code: error?.code ?? status.OK }),
    );
  });
  expect(result.code).toBe(status.UNIMPLEMENTED);
});

interface Collected {
  messages: EchoResponse__Output[];
  error?: { code: number; message: string };
}

/** Reads up to `count` messages (then cancels unless told not to), or until the stream fails or ends. */
function collect(
  stream: ClientReadableStream<EchoResponse__Output>,
  count: number,
  options: { cancel: boolean } = { cancel: true },
): Promise<Collected> {
  return new Promise((resolve, reject) => {
    const messages: EchoResponse__Output[] = [];
    const timeout = setTimeout(
      () => reject(new Error(`got ${messages.length} of ${count} messages in time`)),
      10_000,
    );
    const done = (result: Collected) => {
      clearTimeout(timeout);
      resolve(result);
    };
    stream.on('data', (message: EchoResponse__Output) => {
      messages.push(message);
      if (messages.length === count) {
        if (options.cancel) stream.cancel();
        done({ messages });
      }
    });
    stream.on('error', (error: { code: number; details: string }) => {
      if (messages.length < count) done({ messages, error: { code: error.code, message: error.details } });
    });
    stream.on('end', () => done({ messages }));
  });
}
