import { describe, expect, it } from 'vitest';
import {
  fieldValue,
  formatGrpcTimeout,
  isGrpcContentType,
  parseGrpcTimeout,
  responseFieldsForClient,
  trailersFromTrailersOnly,
  upstreamRequestFields,
  withoutFields,
} from './headers.js';
import { RequestHeaders } from './request-headers.js';

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
  const request = [
    ':method',
    'POST',
    ':path',
    '/probe.v1.Probe/Unary',
    ':scheme',
    'http',
    ':authority',
    'gw',
    'content-type',
    'application/grpc',
    'te',
    'trailers',
    'grpc-timeout',
    '5S',
    'authorization',
    'Bearer x',
    'trace-bin',
    'AAEC',
  ];

  it('forwards the request header list itself when nothing changes (no copy)', () => {
    expect(upstreamRequestFields(request, undefined)).toBe(request);
  });

  it('reads the first value of a field', () => {
    expect(fieldValue(request, ':path')).toBe('/probe.v1.Probe/Unary');
    expect(fieldValue(request, 'missing')).toBeUndefined();
  });

  it('replaces only grpc-timeout when a remaining budget is given', () => {
    const out = upstreamRequestFields(request, '1200m');
    expect(out).not.toBe(request);
    expect(new RequestHeaders(out).toObject()).toEqual({
      ...new RequestHeaders(request).toObject(),
      'grpc-timeout': '1200m',
    });
  });

  it('turns a trailers-only response into trailers', () => {
    expect(
      trailersFromTrailersOnly([
        ':status',
        '200',
        'content-type',
        'application/grpc',
        'grpc-status',
        '5',
        'x-m',
        'v',
      ]),
    ).toEqual(['grpc-status', '5', 'x-m', 'v']);
  });
});

describe('header hygiene', () => {
  const response = [':status', '200', 'content-type', 'application/grpc', 'x-a', '1'];

  it('withoutFields removes every named field and returns the same list when none is there', () => {
    const request = [':path', '/a/B', 'authorization', 't', 'x-a', '1', 'authorization', 'u'];
    expect(withoutFields(request, new Set(['authorization']))).toEqual([':path', '/a/B', 'x-a', '1']);
    expect(withoutFields(response, new Set(['authorization']))).toBe(response);
  });

  it('responseFieldsForClient drops the origin-wide fields only, copying only then', () => {
    expect(responseFieldsForClient(response)).toBe(response);
    expect(
      responseFieldsForClient([
        ...response,
        'set-cookie',
        'a=1',
        'alt-svc',
        'h2=":1"',
        'strict-transport-security',
        'max-age=1',
        'clear-site-data',
        '"*"',
        'grpc-status',
        '0',
      ]),
    ).toEqual([...response, 'grpc-status', '0']);
  });
});
