import type { IncomingHttpHeaders } from 'node:http2';
import { describe, expect, it } from 'vitest';
import {
  downstreamResponseHeaders,
  downstreamTrailers,
  formatGrpcTimeout,
  isGrpcContentType,
  parseGrpcTimeout,
  trailersFromTrailersOnly,
  upstreamRequestHeaders,
} from './headers.js';

describe('grpc-timeout', () => {
  it.each([
    ['1H', 3_600_000],
    ['2M', 120_000],
    ['3S', 3000],
    ['250m', 250],
    ['1500u', 1.5],
    ['2000000n', 2],
    ['99999999m', 99_999_999],
  ])('parses %s', (value, ms) => {
    expect(parseGrpcTimeout(value)).toBe(ms);
  });

  it.each([undefined, '', 'm', '10', '10x', '-1m', '1.5S', '123456789m', ' 1m', '1 m'])(
    'rejects %j',
    (value) => {
      expect(parseGrpcTimeout(value)).toBeUndefined();
    },
  );

  it('formats a remaining budget rounded up, at least 1 ms, within 8 digits', () => {
    expect(formatGrpcTimeout(0.2)).toBe('1m');
    expect(formatGrpcTimeout(-5)).toBe('1m');
    expect(formatGrpcTimeout(1234.1)).toBe('1235m');
    expect(formatGrpcTimeout(200_000_000)).toBe('200000S');
    expect(formatGrpcTimeout(1e15)).toBe('99999999H');
    for (const ms of [1, 999, 99_999_999, 100_000_000, 5e11]) {
      const text = formatGrpcTimeout(ms);
      expect(parseGrpcTimeout(text)).toBeGreaterThanOrEqual(ms);
    }
  });
});

describe('content-type', () => {
  it.each([
    'application/grpc',
    'application/grpc+proto',
    'application/grpc+json',
    'application/grpc; charset=x',
  ])('accepts %s', (value) => expect(isGrpcContentType(value)).toBe(true));
  it.each([undefined, '', 'application/json', 'application/grpc-web', 'application/grpcx', 'text/plain'])(
    'refuses %j',
    (value) => expect(isGrpcContentType(value)).toBe(false),
  );
});

describe('header forwarding', () => {
  const request: IncomingHttpHeaders = {
    ':method': 'POST',
    ':path': '/probe.v1.Probe/Unary',
    ':scheme': 'http',
    ':authority': 'gw',
    'content-type': 'application/grpc',
    te: 'trailers',
    'grpc-timeout': '5S',
    authorization: 'Bearer x',
    'trace-bin': 'AAEC',
  };

  it('forwards the request headers object itself when nothing changes (no copy)', () => {
    expect(upstreamRequestHeaders(request, undefined)).toBe(request);
  });

  it('replaces only grpc-timeout when a remaining budget is given', () => {
    const out = upstreamRequestHeaders(request, '1200m');
    expect(out).not.toBe(request);
    expect(out).toEqual({ ...request, 'grpc-timeout': '1200m' });
  });

  it('strips hop-by-hop headers', () => {
    const withHop = { ...request, connection: 'keep-alive', 'keep-alive': '5', upgrade: 'h2c' };
    expect(upstreamRequestHeaders(withHop, undefined)).toEqual(request);
    expect(
      downstreamResponseHeaders({ ':status': '200', 'x-a': '1', 'transfer-encoding': 'chunked' }),
    ).toEqual({
      ':status': '200',
      'x-a': '1',
    });
    expect(downstreamTrailers({ 'grpc-status': '0', 'proxy-connection': 'x' })).toEqual({
      'grpc-status': '0',
    });
  });

  it('passes response headers and trailers through unchanged', () => {
    const headers = { ':status': '200', 'content-type': 'application/grpc', 'x-b-bin': 'AQ==' };
    expect(downstreamResponseHeaders(headers)).toBe(headers);
    const trailers = { 'grpc-status': '7', 'grpc-message': 'no', 'x-t': 'v' };
    expect(downstreamTrailers(trailers)).toBe(trailers);
  });

  it('turns a trailers-only response into trailers', () => {
    expect(
      trailersFromTrailersOnly({
        ':status': '200',
        'content-type': 'application/grpc',
        'grpc-status': '5',
        'x-m': 'v',
      }),
    ).toEqual({ 'grpc-status': '5', 'x-m': 'v' });
  });
});
