import { buildWorkspace, ManagedProcess } from '@stickygw/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { compiledPath, DemoStack } from '../shared/demo-stack.js';
import { runWeightedDemo } from './demo.js';

beforeAll(() => buildWorkspace('examples'));

describe('weighted-cluster (a cluster type configured in YAML, through a real gateway process)', () => {
  it('splits calls 80/20 between two clusters', async () => {
    const { split } = await runWeightedDemo();
    expect(split).toEqual({ stable: 80, canary: 20 });
  });

  it('refuses to start on a bad weight and on a split naming a cluster that does not exist, naming the field', async () => {
    const stack = new DemoStack();
    try {
      const gateway = ManagedProcess.start({
        name: 'gateway',
        command: process.execPath,
        args: [compiledPath('weighted-cluster/main')],
        env: {
          SERVICE_PORT_GRPC: '1',
          RETRY_COUNT: '1',
          RETRY_TIMEOUT_MS: '1000',
          CONFIG_PATH: stack.file(
            'gateway.yaml',
            [
              'clusters:',
              '  echo: { type: weighted, split: [{ cluster: stable, weight: 1 }, { cluster: gone, weight: 1 }] }',
              '  bad: { type: weighted, split: [{ cluster: stable, weight: -1 }] }',
              '  stable: { type: static, address: "127.0.0.1:1" }',
            ].join('\n'),
          ),
        },
      });
      expect(await gateway.waitForExit(20_000)).toEqual({ code: 1, signal: null });
      expect(gateway.stderr()).toContain('failed to load configuration');
      expect(gateway.stderr()).toContain('clusters.bad.split[0].weight must be >= 0');
      await gateway.stop();
      const second = ManagedProcess.start({
        ...gateway.spec,
        env: {
          ...gateway.spec.env,
          CONFIG_PATH: stack.file(
            'gateway.yaml',
            'clusters:\n  echo: { type: weighted, split: [{ cluster: gone, weight: 1 }] }\n',
          ),
        },
      });
      expect(await second.waitForExit(20_000)).toEqual({ code: 1, signal: null });
      expect(second.stderr()).toContain('cluster echo: split[0].cluster: no cluster "gone"');
    } finally {
      await stack.close();
    }
  });
});
