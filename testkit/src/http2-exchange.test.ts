import { once } from 'node:events';
import { type ClientHttp2Session, connect, constants, createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http2Exchange } from './http2-exchange.js';

describe('http2Exchange', () => {
  let server: Http2Server;
  let session: ClientHttp2Session;

  beforeAll(async () => {
    server = createServer();
    server.on('stream', (stream, headers) => {
      // The refused stream's server side errors too; that is the point of the case.
      stream.on('error', () => {});
      if (headers[':path'] === '/reset') {
        stream.close(constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      stream.respond({ ':status': 200, 'x-answer': 'yes' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-done': '1' }));
      stream.end('pong');
      stream.resume();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    session.on('error', () => {});
  });

  afterAll(async () => {
    session.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('collects headers, body and trailers of a stream that ends normally', async () => {
    const answer = await http2Exchange(session, { ':method': 'POST', ':path': '/echo' }, Buffer.from('ping'));
    expect(answer.headers?.['x-answer']).toBe('yes');
    expect(answer.body.toString()).toBe('pong');
    expect(answer.trailers?.['x-done']).toBe('1');
    expect(answer.rstCode).toBe(0);
    expect(answer.error).toBeUndefined();
  });

  it('resolves with the reset code and error of a reset stream', async () => {
    const answer = await http2Exchange(session, { ':method': 'GET', ':path': '/reset' });
    expect(answer.headers).toBeUndefined();
    expect(answer.rstCode).toBe(constants.NGHTTP2_REFUSED_STREAM);
    expect(answer.error?.message).toContain('NGHTTP2_REFUSED_STREAM');
  });
});
