import { describe, expect, it } from 'vitest';
import { parseUserRecord } from './user-record.js';

describe('parseUserRecord', () => {
  it('reads password and role', () => {
    expect(parseUserRecord('{"password":"secret","role":"user"}')).toEqual({
      password: { kind: 'plain', value: 'secret' },
      role: 'user',
    });
  });

  it('matches property names case-insensitively and ignores unknown ones and login', () => {
    expect(parseUserRecord('{"Login":"bob","PASSWORD":"pw","Role":"ops","age":3,"extra":{"a":1}}')).toEqual({
      password: { kind: 'plain', value: 'pw' },
      role: 'ops',
    });
  });

  it('lets a later duplicate win, like Go', () => {
    expect(parseUserRecord('{"password":"first","Password":"second"}').password).toEqual({
      kind: 'plain',
      value: 'second',
    });
  });

  it('reads missing or null fields as empty', () => {
    expect(parseUserRecord('{}')).toEqual({ password: { kind: 'plain', value: '' }, role: '' });
    expect(parseUserRecord('{"password":null,"role":null}')).toEqual({
      password: { kind: 'plain', value: '' },
      role: '',
    });
  });

  it('reads a scrypt hash', () => {
    const record = parseUserRecord(
      '{"password":"scrypt$1024$8$1$c2FsdA==$MDEyMzQ1Njc4OWFiY2RlZg==","role":"r"}',
    );
    expect(record.password.kind).toBe('scrypt');
  });

  it.each([
    ['not json', 'user record is not valid JSON'],
    ['{"password":"pw"', 'user record is not valid JSON'],
    ['null', 'user record must be a JSON object'],
    ['["pw"]', 'user record must be a JSON object'],
    ['"pw"', 'user record must be a JSON object'],
    ['{"password":42}', 'user record field "password" must be a string'],
    ['{"Role":true}', 'user record field "Role" must be a string'],
    ['{"password":"scrypt$x"}', 'user record password: scrypt hash must have the form'],
  ])('refuses %s', (json, message) => {
    expect(() => parseUserRecord(json)).toThrow(message);
  });
});
