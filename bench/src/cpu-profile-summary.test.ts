import { describe, expect, it } from 'vitest';
import { type CpuProfile, shortenUrl, summarizeCpuProfile } from './cpu-profile-summary.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)') },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('onStreamRead', 'node:internal/stream_base_commons', 162) },
    { id: 4, callFrame: frame('handleStream', 'file:///work/main/gateway/dist/pipeline.js', 9) },
    { id: 5, callFrame: frame('(garbage collector)') },
    { id: 6, callFrame: frame('', 'file:///work/main/gateway/dist/pipeline.js', 40) },
  ],
  samples: [2, 3, 4, 4, 5, 2, 6],
  timeDeltas: [5000, 1000, 2000, 2000, 1000, 5000, 4000],
};

describe('summarizeCpuProfile', () => {
  it('ranks self time per function and per file, leaving idle out', () => {
    const summary = summarizeCpuProfile(PROFILE);
    expect(summary.busyMs).toBe(10);
    expect(summary.byFunction).toEqual([
      { name: 'handleStream gateway/dist/pipeline.js:10', selfMs: 4, percent: 40 },
      { name: '(anonymous) gateway/dist/pipeline.js:41', selfMs: 4, percent: 40 },
      { name: 'onStreamRead node:internal/stream_base_commons:163', selfMs: 1, percent: 10 },
      { name: '(garbage collector)', selfMs: 1, percent: 10 },
    ]);
    expect(summary.byFile[0]).toEqual({ name: 'gateway/dist/pipeline.js', selfMs: 8, percent: 80 });
  });

  it('keeps only the top entries', () => {
    expect(summarizeCpuProfile(PROFILE, 1).byFunction).toHaveLength(1);
  });
});

describe('shortenUrl', () => {
  it('keeps what identifies the source', () => {
    expect(shortenUrl('file:///work/main/node_modules/pino/lib/proto.js')).toBe('pino/lib/proto.js');
    expect(shortenUrl('file:///work/main/gateway/dist/proxy/stream-proxy.js')).toBe(
      'gateway/dist/proxy/stream-proxy.js',
    );
    expect(shortenUrl('node:internal/http2/core')).toBe('node:internal/http2/core');
    expect(shortenUrl('')).toBe('(native)');
  });
});
