import { status } from '@grpc/grpc-js';
import { buildWorkspace } from '@stickygw/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { runNewServiceDemo } from './demo.js';

beforeAll(() => buildWorkspace('examples'));

describe('new-service-by-config (the stock gateway process, a route and a cluster added)', () => {
  it('routes the new service to its backend, keeps the old one, and still refuses an unrouted one', async () => {
    const result = await runNewServiceDemo();
    expect(result.echo).toEqual({ backend: 'echo-1' });
    expect(result.inventory).toEqual({ backend: 'inventory-1' });
    expect(result.unrouted).toEqual({ code: status.UNIMPLEMENTED, details: 'method not routed' });
  });
});
