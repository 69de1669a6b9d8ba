import { type AddressInfo, createServer, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { FakeDiscoverer, getFreePort, waitFor } from '@stickygw/testkit';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registration, type RegistrationOptions } from './registration.js';

const TARGET = { instanceId: 'worker-a', ipv4: '127.0.0.1', port: 50_123, ttlMs: 30_000 };

let discoverer: FakeDiscoverer;
const registrations: Registration[] = [];

function register(overrides: Partial<RegistrationOptions> = {}): Registration {
  const registration = new Registration({
    discovererUrl: discoverer.url,
    target: TARGET,
    heartbeatIntervalMs: 60_000,
    logger: pino({ level: 'silent' }),
    maxAttempts: 100,
    retryDelayMs: 20,
    ...overrides,
  });
  registrations.push(registration);
  registration.start();
  return registration;
}

beforeEach(async () => {
  discoverer = await FakeDiscoverer.start();
});

afterEach(async () => {
  for (const registration of registrations.splice(0)) registration.stop();
  await discoverer.stop();
});

describe('Registration', () => {
  it('posts the reference body to /v1/register', async () => {
    const before = Date.now();
    const registration = register();
    expect(await registration.initialPhase).toBe(true);
    expect(registration.state).toBe('heartbeating');

    expect(discoverer.requests).toHaveLength(1);
    const [request] = discoverer.requests;
    if (request === undefined) throw new Error('no request recorded');
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1/register');
    expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(request.body).toEqual({
      instance_id: 'worker-a',
      service_type: 'grpcserver',
      ipv4: '127.0.0.1',
      port: 50_123,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      ttl_ms: 30_000,
    });
    const timestamp = Date.parse((request.body as { timestamp: string }).timestamp);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Date.now());
  });

  it('accepts any 2xx', async () => {
    discoverer.respondWith(() => 204);
    expect(await register().initialPhase).toBe(true);
  });

  it('retries failed attempts until one succeeds', async () => {
    discoverer.respondWith((index) => (index < 3 ? 500 : 200));
    const registration = register({ retryDelayMs: 30 });
    expect(await registration.initialPhase).toBe(true);
    expect(discoverer.requests).toHaveLength(4);
    const gaps = discoverer.requests
      .slice(1)
      .map((r, i) => r.receivedAt - (discoverer.requests[i]?.receivedAt ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(25);
  });

  it('gives up after maxAttempts and keeps quiet afterwards', async () => {
    discoverer.respondWith(() => 503);
    const registration = register({ maxAttempts: 3, heartbeatIntervalMs: 10 });
    expect(await registration.initialPhase).toBe(false);
    expect(registration.state).toBe('gave_up');
    expect(discoverer.requests).toHaveLength(3);
  });

  it('counts an unreachable discoverer as a failed attempt', async () => {
    const closedPort = await getFreePort();
    const registration = register({ discovererUrl: `http://127.0.0.1:${closedPort}`, maxAttempts: 2 });
    expect(await registration.initialPhase).toBe(false);
    expect(registration.state).toBe('gave_up');
  });

  it('counts a request that exceeds its timeout as a failed attempt', async () => {
    // A discoverer that accepts the connection and never answers.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const startedAt = Date.now();
      const registration = register({
        discovererUrl: `http://127.0.0.1:${port}`,
        maxAttempts: 2,
        requestTimeoutMs: 100,
      });
      expect(await registration.initialPhase).toBe(false);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(200);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('heartbeats with a fresh timestamp every interval, and keeps going after a failed heartbeat', async () => {
    discoverer.respondWith((index) => (index === 2 ? 500 : 200));
    const registration = register({ heartbeatIntervalMs: 40 });
    await waitFor(() => discoverer.requests.length >= 5, { description: 'four heartbeats', timeoutMs: 5000 });
    expect(registration.state).toBe('heartbeating');

    const bodies = discoverer.requests.map((r) => r.body as { timestamp: string; port: number });
    for (const body of bodies)
      expect(body).toMatchObject({ instance_id: 'worker-a', port: 50_123, ttl_ms: 30_000 });
    const timestamps = bodies.map((b) => Date.parse(b.timestamp));
    for (let i = 1; i < timestamps.length; i++) {
      expect(timestamps[i]).toBeGreaterThan(timestamps[i - 1] ?? Number.POSITIVE_INFINITY);
    }
    for (let i = 1; i < discoverer.requests.length; i++) {
      const gap = (discoverer.requests[i]?.receivedAt ?? 0) - (discoverer.requests[i - 1]?.receivedAt ?? 0);
      expect(gap).toBeGreaterThanOrEqual(35);
    }
  });

  it('stops sending once stopped, and never unregisters', async () => {
    const registration = register({ heartbeatIntervalMs: 20 });
    await waitFor(() => discoverer.requests.length >= 2, { description: 'a heartbeat' });
    registration.stop();
    expect(registration.state).toBe('stopped');
    const sent = discoverer.requests.length;
    // An absence can only be observed over a window: ten heartbeat intervals.
    await delay(200);
    expect(discoverer.requests.length).toBeLessThanOrEqual(sent);
    expect(discoverer.requests.every((r) => r.path === '/v1/register')).toBe(true);
  });

  it('resolves initialPhase with false when stopped before registering', async () => {
    discoverer.respondWith(() => 500);
    const registration = register({ retryDelayMs: 10_000 });
    await waitFor(() => discoverer.requests.length >= 1, { description: 'the first attempt' });
    registration.stop();
    expect(await registration.initialPhase).toBe(false);
  });
});

describe('Registration with a discoverer token', () => {
  it('sends Authorization: Bearer <DISCOVERER_TOKEN> on every registration, and none without a token', async () => {
    const registration = register({ discovererToken: 'worker-token' });
    expect(await registration.initialPhase).toBe(true);
    expect(discoverer.requests[0]?.headers.authorization).toBe('Bearer worker-token');

    const open = register({ target: { ...TARGET, instanceId: 'worker-b' } });
    expect(await open.initialPhase).toBe(true);
    expect(discoverer.requests[1]?.headers.authorization).toBeUndefined();
  });

  it('logs a refused token as an error naming DISCOVERER_TOKEN, and a taken id as a conflict', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    discoverer.respondWith((index) => (index === 0 ? 401 : 409));
    register({ discovererToken: 'wrong-token', logger });
    await waitFor(() => discoverer.requests.length >= 2, { description: 'two attempts' });
    await waitFor(() => lines.length >= 2, { description: 'two log lines' });
    expect(lines[0]).toMatchObject({
      level: 50,
      msg: "the discoverer refused this worker's token: DISCOVERER_TOKEN does not match the discoverer's",
    });
    expect(lines[1]).toMatchObject({
      level: 50,
      msg: 'the discoverer refused this instance_id: it is registered at another address with another token',
    });
    expect(JSON.stringify(lines)).not.toContain('wrong-token');
  });
});
