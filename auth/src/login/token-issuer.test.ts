import { describe, expect, it } from 'vitest';
import { JwtTokenIssuer } from './token-issuer.js';

describe('JwtTokenIssuer', () => {
  it('truncates iat and exp to whole seconds', async () => {
    const issued = await new JwtTokenIssuer('secret', 1_500).issue(
      { login: 'a', role: 'r', sessionId: 's' },
      Date.UTC(2030, 0, 1, 0, 0, 0, 900),
    );
    const payload = JSON.parse(Buffer.from(issued.token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    const second = Date.UTC(2030, 0, 1) / 1000;
    expect(payload).toEqual({ login: 'a', role: 'r', session_id: 's', iat: second, exp: second + 2 });
    expect(issued.expiresAtSeconds).toBe(second + 2);
  });
});
