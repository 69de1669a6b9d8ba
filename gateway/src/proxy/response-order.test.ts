import { once } from 'node:events';
import { connect, createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@stickygw/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { route, type StartedGateway, startTestGateway, staticCluster } from '../test-support/test-gateway.js';

/**
 * The upstream's trailers must not overtake its data. node emits 'trailers' when the frame arrives,
 * while DATA before it may still wait in the paused upstream readable (the client is slower than the
 * upstream): relaying the trailers then ended the call with OK and dropped the rest of the answer.
 */
describe('response order under backpressure', () => {
  // More than the client's window (64 KiB, so most of it waits in the gateway) and less than the
  // gateway's upstream stream window (256 KiB, so the upstream can send it all, trailers included,
  // while the client reads nothing).
  const ANSWER_BYTES = 192 * 1024;
  let upstream: Http2Server;
  let gw: StartedGateway;
  let upstreamStreamsClosed = 0;

  beforeAll(async () => {
    upstream = createServer();
    upstream.on('stream', (stream: ServerHttp2Stream) => {
      stream.on('close', () => upstreamStreamsClosed++);
      stream.resume();
      stream.on('end', () => {
        // One gRPC message, then the trailers, written back to back.
        const message = Buffer.alloc(5 + ANSWER_BYTES, 7);
        message.writeUInt8(0, 0);
        message.writeUInt32BE(ANSWER_BYTES, 1);
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'OK' }));
        stream.end(message);
      });
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    const address = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gw = await startTestGateway({
      routes: [route('/raw.v1.Raw/', 'raw')],
      clusters: [staticCluster('raw', address)],
    });
  });

  afterAll(async () => {
    await gw?.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('relays every byte of the answer before its trailers, however slowly the client reads', async () => {
    const session = connect(`http://${gw.address}`);
    session.on('error', () => {});
    try {
      const closedBefore = upstreamStreamsClosed;
      const request = session.request({
        ':method': 'POST',
        ':path': '/raw.v1.Raw/Big',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      request.end(Buffer.from([0, 0, 0, 0, 0]));
      request.pause();
      // Read nothing until the upstream has sent everything, trailers included.
      await waitFor(() => upstreamStreamsClosed > closedBefore, { description: 'the upstream to finish' });
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));

      let received = 0;
      let trailers: Record<string, unknown> | undefined;
      request.on('trailers', (t) => {
        trailers = t;
      });
      request.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      request.resume();
      await once(request, 'close');
      expect(received).toBe(5 + ANSWER_BYTES);
      expect(trailers?.['grpc-status']).toBe('0');
    } finally {
      session.destroy();
    }
  });
});
