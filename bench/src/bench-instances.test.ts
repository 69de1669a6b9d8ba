import { describe, expect, it } from 'vitest';
import { benchInstances } from './bench-instances.js';

describe('benchInstances', () => {
  it('names instances in order and spreads them over the ports', () => {
    expect(benchInstances(3, [10, 20])).toEqual([
      { instance_id: 'echo-00000', ipv4: '127.0.0.1', port: 10 },
      { instance_id: 'echo-00001', ipv4: '127.0.0.1', port: 20 },
      { instance_id: 'echo-00002', ipv4: '127.0.0.1', port: 10 },
    ]);
  });
});
