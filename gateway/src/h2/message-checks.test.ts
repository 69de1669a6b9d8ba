import { describe, expect, it } from 'vitest';
import {
  type CheckedFields,
  checkRequest,
  checkResponse,
  checkTrailers,
  parseContentLength,
} from './message-checks.js';

const REQUEST = [
  ':method',
  'POST',
  ':scheme',
  'http',
  ':path',
  '/a.B/C',
  ':authority',
  'gw',
  'content-type',
  'application/grpc',
  'te',
  'trailers',
];

function request(fields: string[]): CheckedFields {
  const out: CheckedFields = { contentLength: -1, reason: undefined, status: 0 };
  checkRequest(fields, out);
  return out;
}

describe('request header lists (RFC 9113 8.3.1, 8.2)', () => {
  it('accepts a gRPC request and reports its content-length', () => {
    expect(request(REQUEST).reason).toBeUndefined();
    expect(request([...REQUEST, 'content-length', '12']).contentLength).toBe(12);
    expect(request([':method', 'CONNECT', ':authority', 'x:1']).reason).toBeUndefined();
    // Blank edges are let through (a SHOULD in the RFC; nghttp2 lets them through too).
    expect(request([...REQUEST, 'authorization', '   ']).reason).toBeUndefined();
  });

  it.each([
    ['an uppercase name', [...REQUEST, 'X-Up', '1'], 'invalid header name'],
    ['a name with a space', [...REQUEST, 'a b', '1'], 'invalid header name'],
    ['an empty name', [...REQUEST, '', '1'], 'invalid header name'],
    ['a value with LF', [...REQUEST, 'x', 'a\nb'], 'invalid value'],
    ['a value with NUL', [...REQUEST, 'x', 'a\0b'], 'invalid value'],
    ['a pseudo value with CR', [':method', 'POST\r', ':scheme', 'http', ':path', '/'], 'invalid value'],
    ['connection', [...REQUEST, 'connection', 'close'], 'connection-specific'],
    ['keep-alive', [...REQUEST, 'keep-alive', '5'], 'connection-specific'],
    ['transfer-encoding', [...REQUEST, 'transfer-encoding', 'chunked'], 'connection-specific'],
    ['upgrade', [...REQUEST, 'upgrade', 'h2c'], 'connection-specific'],
    ['te other than trailers', [...REQUEST.slice(0, 10), 'te', 'gzip'], 'connection-specific'],
    ['a pseudo-header after a regular one', [...REQUEST, ':path', '/x'], 'after regular'],
    [
      'a repeated pseudo-header',
      [':method', 'POST', ':method', 'GET', ':scheme', 'http', ':path', '/'],
      'repeated',
    ],
    [
      'an unknown pseudo-header',
      [':method', 'POST', ':scheme', 'http', ':path', '/', ':status', '200'],
      'unknown pseudo',
    ],
    ['no :method', [':scheme', 'http', ':path', '/'], 'missing :method'],
    ['no :scheme', [':method', 'GET', ':path', '/'], 'missing :scheme'],
    ['an empty :path', [':method', 'GET', ':scheme', 'http', ':path', ''], ':path'],
    ['CONNECT with :path', [':method', 'CONNECT', ':authority', 'x', ':path', '/'], 'CONNECT'],
    [
      'two different content-lengths',
      [...REQUEST, 'content-length', '1', 'content-length', '2'],
      'content-length',
    ],
    ['a content-length that is not a number', [...REQUEST, 'content-length', '1e3'], 'content-length'],
  ])('refuses %s', (_what, fields, reason) => {
    expect(request(fields).reason).toContain(reason);
  });
});

describe('responses and trailers', () => {
  const out: CheckedFields = { contentLength: -1, reason: undefined, status: 0 };

  it('needs :status once, first, three digits', () => {
    checkResponse([':status', '200', 'content-type', 'application/grpc'], out);
    expect(out).toMatchObject({ reason: undefined, status: 200 });
    checkResponse([':status', '103'], out);
    expect(out.status).toBe(103);
    for (const bad of [
      [],
      [':status', '20'],
      [':status', '2x0'],
      [':status', '200', ':status', '200'],
      ['a', '1', ':status', '200'],
      [':status', '200', ':path', '/'],
    ]) {
      checkResponse(bad, out);
      expect(out.reason, JSON.stringify(bad)).toBeDefined();
    }
  });

  it('trailers carry no pseudo-headers', () => {
    checkTrailers(['grpc-status', '0', 'x-bin', 'AAE='], out);
    expect(out.reason).toBeUndefined();
    checkTrailers(['grpc-status', '0', ':status', '200'], out);
    expect(out.reason).toContain('pseudo-header');
  });

  it('parses content-length strictly', () => {
    expect(parseContentLength('0')).toBe(0);
    expect(parseContentLength('8388608')).toBe(8_388_608);
    for (const bad of ['', '-1', '+1', ' 1', '1 ', '0x10', '9'.repeat(16)])
      expect(parseContentLength(bad)).toBe(-2);
  });
});
