import { status } from '@grpc/grpc-js';
import { buildWorkspace } from '@stickygw/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { runApiKeyDemo } from './demo.js';

beforeAll(() => buildWorkspace('examples'));

describe('api-key-auth (a HeaderFilter, through a real gateway process)', () => {
  it('admits a listed key, refuses a wrong or missing one, and leaves the JWT route to the JWT check', async () => {
    const result = await runApiKeyDemo();
    expect(result.goodKey).toEqual({ backend: 'public-api' });
    expect(result.wrongKey).toEqual({ code: status.UNAUTHENTICATED, details: 'invalid x-api-key' });
    expect(result.noKey).toEqual({ code: status.UNAUTHENTICATED, details: 'missing x-api-key' });
    expect(result.jwtRouteWithoutToken).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'missing session-id',
    });
    expect(result.jwtRouteWithToken).toEqual({ backend: 'secure-api' });
  });
});
