import { describe, expect, it } from 'vitest';
import { cpuTicksFromStat, readCpuMicros, readRssBytes, rssBytesFromStatus } from './proc-stats.js';

describe('cpuTicksFromStat', () => {
  it('adds utime and stime, even when the command name holds spaces and parens', () => {
    const line = '4242 (node (main) x) S 1 4242 4242 0 -1 4194560 2000 0 0 0 1234 567 0 0 20 0 11 0 100 0 0';
    expect(cpuTicksFromStat(line)).toBe(1234 + 567);
  });
});

describe('rssBytesFromStatus', () => {
  it('reads VmRSS in bytes', () => {
    expect(rssBytesFromStatus('Name:\tnode\nVmRSS:\t   51200 kB\nThreads:\t11\n')).toBe(51200 * 1024);
  });

  it('names the missing line', () => {
    expect(() => rssBytesFromStatus('Name:\tzombie\n')).toThrow('no VmRSS line');
  });
});

describe('readCpuMicros and readRssBytes', () => {
  it('read this very process', () => {
    expect(readCpuMicros(process.pid)).toBeGreaterThan(0);
    expect(readRssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
  });
});
