import { describe, expect, it } from 'vitest';
import { hashPassword, parseStoredPassword, verifyPassword } from './password.js';

// Small parameters keep the suite fast; the format and the code path are the same as the defaults'.
const FAST = { cost: 1024, blockSize: 8, parallelization: 1 };

describe('password', () => {
  it('hashes with the default parameters into the documented form', async () => {
    const stored = await hashPassword('s3cret');
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
    expect(await verifyPassword(parseStoredPassword(stored), 's3cret')).toBe(true);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same', FAST)).not.toBe(await hashPassword('same', FAST));
  });

  it('accepts only the right password for a hash', async () => {
    const stored = parseStoredPassword(await hashPassword('pässwörd', FAST));
    expect(stored.kind).toBe('scrypt');
    expect(await verifyPassword(stored, 'pässwörd')).toBe(true);
    expect(await verifyPassword(stored, 'passwörd')).toBe(false);
    expect(await verifyPassword(stored, '')).toBe(false);
  });

  it('treats any other value as plain text, compared exactly', async () => {
    const stored = parseStoredPassword('secret');
    expect(stored).toEqual({ kind: 'plain', value: 'secret' });
    expect(await verifyPassword(stored, 'secret')).toBe(true);
    expect(await verifyPassword(stored, 'secret ')).toBe(false);
    expect(await verifyPassword(stored, 'Secret')).toBe(false);
    expect(await verifyPassword(parseStoredPassword(''), '')).toBe(true);
    expect(await verifyPassword(parseStoredPassword(''), 'x')).toBe(false);
  });

  it.each([
    ['scrypt$1024$8$1$c2FsdA==', 'scrypt hash must have the form scrypt$N$r$p$salt$hash'],
    [
      'scrypt$1000$8$1$c2FsdA==$MDEyMzQ1Njc4OWFiY2RlZg==',
      'invalid scrypt parameters: N must be a power of two',
    ],
    [
      'scrypt$2097152$8$1$c2FsdA==$MDEyMzQ1Njc4OWFiY2RlZg==',
      'invalid scrypt parameters: N must be a power of two',
    ],
    ['scrypt$1024$0$1$c2FsdA==$MDEyMzQ1Njc4OWFiY2RlZg==', 'invalid scrypt parameters: r must be in 1..32'],
    ['scrypt$1024$8$x$c2FsdA==$MDEyMzQ1Njc4OWFiY2RlZg==', 'invalid scrypt parameters: p must be in 1..16'],
    ['scrypt$1048576$32$1$c2FsdA==$MDEyMzQ1Njc4OWFiY2RlZg==', 'invalid scrypt parameters: N and r need more'],
    ['scrypt$1024$8$1$$MDEyMzQ1Njc4OWFiY2RlZg==', 'scrypt salt and hash must be non-empty base64'],
    ['scrypt$1024$8$1$c2FsdA==$not*base64', 'scrypt salt and hash must be non-empty base64'],
    ['scrypt$1024$8$1$c2FsdA==$c2hvcnQ=', 'scrypt hash must be 16..128 bytes'],
  ])('refuses the malformed hash %s', (value, message) => {
    expect(() => parseStoredPassword(value)).toThrow(message);
  });
});
