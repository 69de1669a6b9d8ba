import { status } from '@grpc/grpc-js';
import { buildWorkspace } from '@stickygw/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRs256Demo } from './demo.js';

beforeAll(() => buildWorkspace('examples'));

const REFUSED = { code: status.UNAUTHENTICATED, details: 'missing or invalid token' };

describe('rs256-validator (a TokenValidator over a JWKS file, through a real gateway process)', () => {
  it('accepts RS256 and ES256 tokens of known kids, refuses the rest, and follows a key rotation', async () => {
    const result = await runRs256Demo();
    expect(result.rs256KnownKid).toEqual({ backend: 'secure-api' });
    expect(result.es256KnownKid).toEqual({ backend: 'secure-api' });
    expect(result.unknownKid).toEqual(REFUSED);
    expect(result.otherSession).toEqual(REFUSED);
    expect(result.expired).toEqual(REFUSED);
    expect(result.forgedKid).toEqual(REFUSED);
    expect(result.afterRotationNewKid).toEqual({ backend: 'secure-api' });
    expect(result.afterRotationOldKid).toEqual(REFUSED);
  });
});
