import { once } from 'node:events';
import { connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProbeBackend, type ProbeClient, probeClient } from '../test-support/probe-backend.js';
import {
  PROBE_PREFIX,
  route,
  type StartedGateway,
  startTestGateway,
  staticCluster,
  unary,
} from '../test-support/test-gateway.js';

/**
 * Limits on what one client connection may hold: the HTTP/2 handshake must complete within
 * HANDSHAKE_TIMEOUT_MS (a peer stopping half-way through the preface held its socket forever), a
 * connection without streams is closed after IDLE_TIMEOUT_MS, and a header list over the announced
 * limit is refused before it is routed.
 */
describe('connection limits', () => {
  const HANDSHAKE_MS = 200;
  const IDLE_MS = 300;
  let backend: ProbeBackend;
  let gw: StartedGateway;
  let client: ProbeClient;

  beforeAll(async () => {
    backend = await ProbeBackend.start('alpha');
    gw = await startTestGateway({
      routes: [route(PROBE_PREFIX, 'probe')],
      clusters: [staticCluster('probe', backend.address)],
      handshakeTimeoutMs: HANDSHAKE_MS,
      idleTimeoutMs: IDLE_MS,
    });
    client = probeClient(gw.address);
  });

  afterAll(async () => {
    client?.close();
    await gw?.close();
    await backend?.stop();
  });

  async function closedAfter(bytes: string | undefined): Promise<number> {
    const socket = netConnect(gw.port, '127.0.0.1');
    socket.on('error', () => {});
    const started = performance.now();
    await once(socket, 'connect');
    if (bytes !== undefined) socket.write(bytes);
    socket.resume();
    await once(socket, 'close');
    return performance.now() - started;
  }

  it('closes a connection that sends nothing, half a preface, or the preface without SETTINGS', async () => {
    const times = await Promise.all([
      closedAfter(undefined),
      closedAfter('PRI * HTTP/2.0\r\n'),
      closedAfter('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
    ]);
    for (const ms of times) {
      expect(ms).toBeGreaterThanOrEqual(HANDSHAKE_MS - 20);
      expect(ms).toBeLessThan(HANDSHAKE_MS * 2 + 1_000);
    }
  });

  /** Holds the event loop, as a burst of calls does, so that timers fall due while bytes wait unread. */
  function busyFor(ms: number): void {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // spin
    }
  }

  const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

  /** Resolves with what the gateway did within `ms`: answered with its SETTINGS, or closed. */
  async function handshakeOutcome(
    socket: ReturnType<typeof netConnect>,
    ms: number,
  ): Promise<'settings' | 'closed' | 'silent'> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve('silent'), ms);
      socket.on('data', (chunk: Buffer) => {
        // The server's first frame is its SETTINGS: type 4 at offset 3.
        if (chunk.length >= 9 && chunk[3] === 4) {
          clearTimeout(timer);
          resolve('settings');
        }
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve('closed');
      });
    });
  }

  it('serves a peer whose handshake arrived on time while the gateway was busy past the timeout', async () => {
    // Preface timer: the whole handshake arrives, then the loop is held past HANDSHAKE_MS.
    const early = netConnect(gw.port, '127.0.0.1');
    early.on('error', () => {});
    await once(early, 'connect');
    await new Promise((resolve) => setTimeout(resolve, 50));
    early.write(Buffer.concat([PREFACE, EMPTY_SETTINGS]));
    busyFor(HANDSHAKE_MS * 2);
    expect(await handshakeOutcome(early, HANDSHAKE_MS * 3)).toBe('settings');
    early.destroy();

    // Handshake timer: the preface came first, its SETTINGS arrive while the loop is held.
    const split = netConnect(gw.port, '127.0.0.1');
    split.on('error', () => {});
    await once(split, 'connect');
    split.write(PREFACE);
    await new Promise((resolve) => setTimeout(resolve, 50));
    split.write(EMPTY_SETTINGS);
    busyFor(HANDSHAKE_MS * 2);
    // The gateway's SETTINGS may already have come with the preface; it must not close after it.
    const closed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), HANDSHAKE_MS * 3);
      split.on('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    split.resume();
    expect(await closed).toBe(false);
    split.destroy();
  });

  it('sends GOAWAY to a connection without streams after the idle timeout, not to a busy one', async () => {
    const idle = connect(`http://${gw.address}`);
    idle.on('error', () => {});
    const started = performance.now();
    const [code] = (await once(idle, 'goaway')) as [number];
    expect(code).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 20);
    idle.destroy();

    // A call outliving the idle timeout keeps its connection.
    const held = await unary(client, { text: 'slow', delay_ms: IDLE_MS * 3 });
    expect(held.error).toBeUndefined();
    expect(held.reply?.text).toBe('slow');
  });

  it('refuses a header list over 64 KiB with RESOURCE_EXHAUSTED before routing', async () => {
    const before = backend.calls.length;
    // Node's own client refuses to send a header block over 64 KiB unless told otherwise.
    const session = connect(`http://${gw.address}`, { maxSendHeaderBlockLength: 1024 * 1024 });
    session.on('error', () => {});
    try {
      const headers: Record<string, string> = {
        ':method': 'POST',
        ':path': `${PROBE_PREFIX}Unary`,
        'content-type': 'application/grpc',
        te: 'trailers',
      };
      for (let i = 0; i < 20; i++) headers[`x-padding-${i}`] = 'p'.repeat(4_000);
      const request = session.request(headers, { endStream: true });
      const [response] = (await once(request, 'response')) as [Record<string, unknown>];
      expect(response['grpc-status']).toBe('8');
      expect(decodeURIComponent(String(response['grpc-message']))).toMatch(
        /^request headers of \d+ bytes exceed the limit of 65536 bytes$/,
      );
      expect(backend.calls.length).toBe(before);
    } finally {
      session.destroy();
    }
  });
});

describe('closing an idle connection races with calls already on the wire', () => {
  let backend: ProbeBackend;
  let gw: StartedGateway;

  beforeAll(async () => {
    backend = await ProbeBackend.start('alpha');
    // Every connection is idle-closed a millisecond after it opens: calls the client sent in the
    // meantime must be served (two-step GOAWAY), not refused.
    gw = await startTestGateway({
      routes: [route(PROBE_PREFIX, 'probe')],
      clusters: [staticCluster('probe', backend.address)],
      idleTimeoutMs: 1,
    });
  });

  afterAll(async () => {
    await gw?.close();
    await backend?.stop();
  });

  it('serves every call sent before the client saw the GOAWAY', async () => {
    for (let round = 0; round < 5; round++) {
      const client = probeClient(gw.address);
      try {
        const outcomes = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            unary(client, { text: `r${round}-${i}` }, undefined, { deadline: Date.now() + 10_000 }),
          ),
        );
        expect(
          outcomes.filter((o) => o.error !== undefined).map((o) => `${o.error?.code} ${o.error?.details}`),
        ).toEqual([]);
      } finally {
        client.close();
      }
    }
  });
});
