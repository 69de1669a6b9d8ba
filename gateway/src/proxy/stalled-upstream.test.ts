import { type ClientHttp2Session, connect } from 'node:http2';
import { FakeDiscoverer, waitFor } from '@stickygw/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { EchoChild } from '../test-support/echo-child.js';
import {
  dynamicCluster,
  route,
  type StartedGateway,
  startTestGateway,
  staticCluster,
} from '../test-support/test-gateway.js';

/** Larger than what loopback socket buffers absorb (~4 MiB send buffer), so the gateway's write blocks. */
const MESSAGE_BYTES = 8 * 1024 * 1024;
/** Receive windows of the echo children: the whole message may be in flight towards them. */
const CHILD_WINDOW_BYTES = 16 * 1024 * 1024;
const KEEPALIVE = { keepaliveIntervalMs: 100, keepaliveTimeoutMs: 300 };

interface CallResult {
  readonly responseBytes: number;
  readonly grpcStatus: string | undefined;
  readonly grpcMessage: string | undefined;
}

/**
 * One gRPC call with a raw node:http2 client: the request headers first, then (once `beforeBody`
 * resolved) one message of MESSAGE_BYTES and the half-close.
 */
function call(client: ClientHttp2Session, beforeBody: () => Promise<void>): Promise<CallResult> {
  const stream = client.request({
    ':method': 'POST',
    ':path': '/stall.v1.Echo/Big',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  let responseBytes = 0;
  let headers: Record<string, unknown> = {};
  stream.on('response', (h) => {
    headers = h;
  });
  stream.on('data', (chunk: Buffer) => {
    responseBytes += chunk.length;
  });
  const result = new Promise<CallResult>((resolve, reject) => {
    let trailers: Record<string, unknown> = {};
    stream.on('trailers', (t) => {
      trailers = t;
    });
    stream.on('error', reject);
    stream.on('close', () => {
      const end = { ...headers, ...trailers };
      resolve({
        responseBytes,
        grpcStatus: end['grpc-status'] as string | undefined,
        grpcMessage: end['grpc-message'] as string | undefined,
      });
    });
  });
  void beforeBody().then(() => {
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(MESSAGE_BYTES, 1);
    stream.write(prefix);
    stream.end(Buffer.alloc(MESSAGE_BYTES, 1));
  });
  return result;
}

/**
 * A backend that stops reading while the gateway writes to it (a frozen process: no reads, no PING
 * ACK) must fail or move the gateway's calls through the upstream PING keepalive, not hang them.
 */
describe('an upstream that stops reading', () => {
  let gw: StartedGateway | undefined;
  let client: ClientHttp2Session | undefined;
  const children: EchoChild[] = [];
  let discoverer: FakeDiscoverer | undefined;

  afterEach(async () => {
    client?.destroy();
    client = undefined;
    await gw?.close();
    gw = undefined;
    await Promise.all(children.splice(0).map((child) => child.stop()));
    await discoverer?.stop();
    discoverer = undefined;
  });

  it('fails the in-flight call with UNAVAILABLE once the keepalive PING goes unanswered (static)', async () => {
    const child = await EchoChild.start(CHILD_WINDOW_BYTES);
    children.push(child);
    gw = await startTestGateway({
      routes: [route('/stall.v1.Echo/', 'frozen')],
      clusters: [staticCluster('frozen', `127.0.0.1:${child.port}`)],
      maxMessageBytes: 2 * MESSAGE_BYTES,
      deps: { upstream: KEEPALIVE },
    });
    client = connect(`http://${gw.address}`);
    const started = Date.now();
    const result = await call(client, async () => {
      await waitFor(() => child.streams === 1, { description: 'the call to reach the backend' });
      child.pause();
    });
    expect(result.grpcStatus).toBe('14');
    expect(result.grpcMessage).toBe('backend service unavailable');
    expect(result.responseBytes).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('moves the in-flight call to another instance of a dynamic cluster', async () => {
    const a = await EchoChild.start(CHILD_WINDOW_BYTES);
    const b = await EchoChild.start(CHILD_WINDOW_BYTES);
    children.push(a, b);
    discoverer = await FakeDiscoverer.start();
    discoverer.list({ name: 'a', port: a.port }, { name: 'b', port: b.port });
    gw = await startTestGateway({
      routes: [route('/stall.v1.Echo/', 'workers')],
      clusters: [dynamicCluster('workers', discoverer.url)],
      retryCount: 3,
      retryTimeoutMs: 1000,
      maxMessageBytes: 2 * MESSAGE_BYTES,
      deps: { upstream: KEEPALIVE },
    });
    client = connect(`http://${gw.address}`);
    let frozen: EchoChild | undefined;
    const result = await call(client, async () => {
      await waitFor(() => a.streams + b.streams === 1, { description: 'the call to reach an instance' });
      frozen = a.streams === 1 ? a : b;
      frozen.pause();
    });
    expect(result.grpcStatus).toBe('0');
    expect(result.responseBytes).toBe(5 + MESSAGE_BYTES);
    const survivor = frozen === a ? b : a;
    expect(survivor.streams).toBe(1);
    const frozenId = frozen === a ? 'a' : 'b';
    await waitFor(() => discoverer?.unregistered.includes(frozenId) === true, {
      description: 'the frozen instance to be unregistered',
    });
  });
});
