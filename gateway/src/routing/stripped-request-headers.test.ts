import { describe, expect, it } from 'vitest';
import { strippedRequestHeaders } from './stripped-request-headers.js';

describe('strippedRequestHeaders', () => {
  it('drops authorization on authorization: none routes unless forward_authorization is set', () => {
    expect(strippedRequestHeaders({ authorization: 'none' })).toEqual(new Set(['authorization']));
    expect(strippedRequestHeaders({ authorization: 'none', forwardAuthorization: true })).toBeUndefined();
  });

  it('forwards the token on authorization: required routes, which strip only what they list', () => {
    expect(strippedRequestHeaders({ authorization: 'required' })).toBeUndefined();
    expect(
      strippedRequestHeaders({ authorization: 'required', stripRequestHeaders: ['x-internal'] }),
    ).toEqual(new Set(['x-internal']));
    expect(strippedRequestHeaders({ authorization: 'none', stripRequestHeaders: ['x-internal'] })).toEqual(
      new Set(['x-internal', 'authorization']),
    );
  });
});
