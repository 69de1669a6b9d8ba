import { describe, expect, it } from 'vitest';
import { RequestHeaders } from './request-headers.js';

const repeated = [
  ':path',
  '/p.S/M',
  'a',
  '1',
  'a',
  '2',
  'set-cookie',
  'x',
  'set-cookie',
  'y',
  'cookie',
  'c=1',
  'cookie',
  'd=2',
  'single-cookie-name',
  'v',
];

describe('RequestHeaders', () => {
  it('presents fields as node does: repeated names joined, set-cookie as an array', () => {
    expect(new RequestHeaders(repeated).toObject()).toEqual({
      ':path': '/p.S/M',
      a: '1, 2',
      'set-cookie': ['x', 'y'],
      cookie: 'c=1; d=2',
      'single-cookie-name': 'v',
    });
  });

  it('get reads each name as toObject does, without building it for a name seen once', () => {
    const headers = new RequestHeaders(repeated);
    expect(headers.get(':path')).toBe('/p.S/M');
    expect(headers.get('single-cookie-name')).toBe('v');
    expect(headers.get('missing')).toBeUndefined();
    expect(headers.get('a')).toBe('1, 2');
    expect(headers.get('cookie')).toBe('c=1; d=2');
    expect(headers.get('set-cookie')).toEqual(['x', 'y']);
    expect(new RequestHeaders(['set-cookie', 'only']).get('set-cookie')).toEqual(['only']);
  });

  it('builds the object once per call', () => {
    const headers = new RequestHeaders(repeated);
    expect(headers.toObject()).toBe(headers.toObject());
  });

  it('fromObject takes an object as a client would send it', () => {
    const headers = RequestHeaders.fromObject({
      'Session-Id': 's',
      'set-cookie': ['x', 'y'],
      gone: undefined,
    });
    expect(headers.toObject()).toEqual({ 'session-id': 's', 'set-cookie': ['x', 'y'] });
  });
});
