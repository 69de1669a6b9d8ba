import { buildWorkspace } from '@stickygw/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { runFileDiscoveryDemo } from './demo.js';

beforeAll(() => buildWorkspace('examples'));

describe('static-file-discovery (a DiscovererClient over a file, as a `type: file` cluster)', () => {
  it('balances over the listed instances and follows an edit of the file', async () => {
    const result = await runFileDiscoveryDemo();
    expect(result.before).toEqual({ b1: 10, b2: 10 });
    expect(result.after).toEqual({ b2: 10, b3: 10 });
  });
});
