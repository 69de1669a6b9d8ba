import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { signBenchToken } from './bench-token.js';

describe('signBenchToken', () => {
  it('signs an HS256 JWT carrying the session id, verifiable with the same secret', async () => {
    const token = await signBenchToken('bench-secret', 'session-7');
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode('bench-secret'), {
      algorithms: ['HS256'],
    });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload.session_id).toBe('session-7');
    expect((payload.exp as number) - (payload.iat as number)).toBe(3600);
  });
});
