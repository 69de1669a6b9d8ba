import { buildWorkspace } from '@stickygw/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDnsDiscoveryDemo } from './demo.js';

beforeAll(() => buildWorkspace('examples'));

describe('dns-discovery (a DiscovererClient over A records, as a `type: dns` cluster)', () => {
  it('balances over the A records of a name and follows a change of the records', async () => {
    const result = await runDnsDiscoveryDemo();
    expect(result.twoRecords).toEqual({ 'at-127.0.0.1': 10, 'at-127.0.0.2': 10 });
    expect(result.oneRecord).toEqual({ 'at-127.0.0.2': 20 });
    expect(result.dnsQueries).toBeGreaterThanOrEqual(2);
  });
});
