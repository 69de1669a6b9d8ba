import { once } from 'node:events';
import { type ClientHttp2Session, connect, type IncomingHttpHeaders } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H2Server } from '../h2/server.js';
import type { Http2Stream } from '../h2/stream.js';
import { fieldValue } from './headers.js';
import {
  encodeGrpcMessage,
  endWithHttpError,
  endWithStatus,
  endWithTrailers,
  endWithUpstreamTrailersOnly,
  sendResponseHeaders,
} from './respond.js';

type Handler = (stream: Http2Stream) => void;

describe('the responder', () => {
  let server: H2Server;
  let client: ClientHttp2Session;
  const handlers = new Map<string, Handler>();

  beforeAll(async () => {
    server = new H2Server({
      onStream: (stream, fields) => handlers.get(fieldValue(fields, ':path') ?? '')?.(stream),
    });
    const port = await server.listen(0);
    client = connect(`http://127.0.0.1:${port}`);
  });

  afterAll(async () => {
    client.close();
    await server.close(100);
  });

  async function call(path: string, handler: Handler) {
    handlers.set(path, handler);
    const stream = client.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc' });
    stream.end();
    let headers: IncomingHttpHeaders | undefined;
    let headersFlags = 0;
    let trailers: IncomingHttpHeaders | undefined;
    const data: Buffer[] = [];
    stream.on('response', (h, flags) => {
      headers = h;
      headersFlags = flags;
    });
    stream.on('trailers', (t) => {
      trailers = t;
    });
    stream.on('data', (chunk: Buffer) => data.push(chunk));
    await once(stream, 'close');
    return { headers, trailersOnly: (headersFlags & 1) === 1, trailers, body: Buffer.concat(data) };
  }

  it('answers trailers-only while no headers went out, with a percent-encoded message', async () => {
    const result = await call('/a', (stream) => endWithStatus(stream, 8, 'all instances are busy 100% ✓'));
    expect(result.trailersOnly).toBe(true);
    expect(result.headers?.[':status']).toBe(200);
    expect(result.headers?.['content-type']).toBe('application/grpc');
    expect(result.headers?.['grpc-status']).toBe('8');
    expect(result.headers?.['grpc-message']).toBe('all instances are busy 100%25 %E2%9C%93');
    expect(result.headers?.date).toBeUndefined();
    expect(result.trailers).toBeUndefined();
  });

  it('sends trailers after headers and data, and only the first end counts', async () => {
    const result = await call('/b', (stream) => {
      sendResponseHeaders(stream, [':status', '200', 'content-type', 'application/grpc', 'x-h', 'v']);
      stream.write(Buffer.from('abc'));
      endWithTrailers(stream, ['grpc-status', '0', 'x-t-bin', 'AQI=']);
      endWithStatus(stream, 14, 'ignored');
    });
    expect(result.trailersOnly).toBe(false);
    expect(result.headers?.['x-h']).toBe('v');
    expect(result.body.toString()).toBe('abc');
    expect(result.trailers).toMatchObject({ 'grpc-status': '0', 'x-t-bin': 'AQI=' });
  });

  it('ends a started response with a gateway status in trailers', async () => {
    const result = await call('/c', (stream) => {
      sendResponseHeaders(stream, [':status', '200', 'content-type', 'application/grpc']);
      endWithStatus(stream, 14, 'backend service unavailable');
    });
    expect(result.trailersOnly).toBe(false);
    expect(result.trailers).toMatchObject({
      'grpc-status': '14',
      'grpc-message': 'backend service unavailable',
    });
  });

  it('relays an upstream trailers-only answer as is, or as trailers once headers went out', async () => {
    const upstream = [':status', '200', 'content-type', 'application/grpc', 'grpc-status', '5', 'x-m', 'v'];
    const first = await call('/d', (stream) => endWithUpstreamTrailersOnly(stream, upstream));
    expect(first.trailersOnly).toBe(true);
    expect(first.headers).toMatchObject({ 'grpc-status': '5', 'x-m': 'v' });
    const second = await call('/e', (stream) => {
      sendResponseHeaders(stream, [':status', '200', 'content-type', 'application/grpc']);
      endWithUpstreamTrailersOnly(stream, upstream);
    });
    expect(second.trailersOnly).toBe(false);
    expect(second.trailers).toMatchObject({ 'grpc-status': '5', 'x-m': 'v' });
    expect(second.trailers?.['content-type']).toBeUndefined();
  });

  it('answers non-gRPC requests with a plain HTTP error', async () => {
    const result = await call('/f', (stream) => endWithHttpError(stream, 415, 'not grpc'));
    expect(result.headers?.[':status']).toBe(415);
    expect(result.body.toString()).toBe('not grpc\n');
    handlers.set('/g', (stream) => endWithHttpError(stream, 405, 'not grpc', true));
    const head = client.request({ ':method': 'HEAD', ':path': '/g' });
    head.end();
    let headHeaders: IncomingHttpHeaders | undefined;
    head.on('response', (h) => {
      headHeaders = h;
    });
    let headBody = 0;
    head.on('data', (chunk: Buffer) => {
      headBody += chunk.length;
    });
    await once(head, 'close');
    expect(headHeaders?.[':status']).toBe(405);
    expect(headHeaders?.allow).toBe('POST');
    expect(headHeaders?.['content-length']).toBe('9');
    expect(headBody).toBe(0);
  });

  it('encodes only what the spec asks', () => {
    expect(encodeGrpcMessage('plain text: ok')).toBe('plain text: ok');
    expect(encodeGrpcMessage('a\nb')).toBe('a%0Ab');
    expect(encodeGrpcMessage('100%')).toBe('100%25');
    expect(encodeGrpcMessage('é')).toBe('%C3%A9');
  });
});
