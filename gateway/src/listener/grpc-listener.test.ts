import { waitFor } from '@stickygw/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProbeBackend, type ProbeClient, probeClient } from '../test-support/probe-backend.js';
import {
  PROBE_PREFIX,
  route,
  type StartedGateway,
  startTestGateway,
  staticCluster,
  unary,
} from '../test-support/test-gateway.js';

describe('graceful shutdown (REFERENCE.md 6.14)', () => {
  let backend: ProbeBackend;
  let gw: StartedGateway;
  let client: ProbeClient;

  beforeEach(async () => {
    backend = await ProbeBackend.start('alpha');
    gw = await startTestGateway({
      routes: [route(PROBE_PREFIX, 'probe')],
      clusters: [staticCluster('probe', backend.address)],
    });
    client = probeClient(gw.address);
  });

  afterEach(async () => {
    client.close();
    await gw.close();
    await backend.stop();
  });

  it('lets an in-flight call finish, then refuses new connections', async () => {
    expect((await unary(client, {})).error).toBeUndefined();
    const before = backend.calls.length;
    const inFlight = unary(client, { text: 'slow', delay_ms: 300 });
    await waitFor(() => backend.calls.length > before, { description: 'the call to reach the backend' });
    const closed = gw.close(5000);
    const outcome = await inFlight;
    expect(outcome.error).toBeUndefined();
    expect(outcome.reply?.text).toBe('slow');
    await closed;
    const late = probeClient(gw.address);
    try {
      const refused = await unary(late, {}, undefined, { deadline: Date.now() + 2000 });
      expect(refused.error?.code).toBe(14);
    } finally {
      late.close();
    }
  });

  it('cancels calls still running when the grace period ends, upstream included', async () => {
    const before = backend.calls.length;
    const held = unary(client, { hold: true });
    await waitFor(() => backend.calls.length > before, { description: 'the call to reach the backend' });
    const started = Date.now();
    await gw.close(200);
    expect(Date.now() - started).toBeLessThan(2000);
    const outcome = await held;
    expect(outcome.error).toBeDefined();
    await waitFor(() => backend.cancellations > 0, { description: 'the backend to see the cancellation' });
  });
});
