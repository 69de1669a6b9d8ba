import { describe, expect, it } from 'vitest';
import { parseH2loadDuration, parseH2loadLog, parseH2loadOutput } from './h2load-output.js';

const SAMPLE = `starting benchmark...
spawning thread #0: 8 total client(s). Timing-based test with 0s of warm-up time and 3s of main duration for measurements.
Application protocol: h2c

finished in 3.00s, 33152.00 req/s, 1.77MB/s
requests: 99456 total, 99712 started, 99456 done, 99456 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 99616 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 5.32MB (5578160) total, 292.66KB (299680) headers (space savings 95.76%), 2.38MB (2490400) data
                     min         max         mean         sd        +/- sd
time for request:     4.14ms     98.11ms      7.63ms      4.66ms    93.70%
time for connect:       62us       273us       175us        72us    62.50%
time to 1st byte:    12.52ms     88.41ms     46.51ms     28.11ms    50.00%
req/s           :    4126.60     4169.12     4142.57       17.94    87.50%
`;

describe('parseH2loadOutput', () => {
  it('reads the summary of a run', () => {
    const summary = parseH2loadOutput(SAMPLE);
    expect(summary.durationSeconds).toBe(3);
    expect(summary.requestsPerSecond).toBe(33152);
    expect(summary.requests).toEqual({
      total: 99456,
      started: 99712,
      done: 99456,
      succeeded: 99456,
      failed: 0,
      errored: 0,
      timeout: 0,
    });
    expect(summary.statusCodes).toEqual({ '2xx': 99616, '3xx': 0, '4xx': 0, '5xx': 0 });
    expect(summary.dataBytes).toBe(2490400);
    expect(summary.timeForRequestMicros.min).toBeCloseTo(4140);
    expect(summary.timeForRequestMicros.max).toBeCloseTo(98110);
  });

  it('reads a run shorter than a second, which h2load times in ms', () => {
    const summary = parseH2loadOutput(SAMPLE.replace('finished in 3.00s,', 'finished in 389.12ms,'));
    expect(summary.durationSeconds).toBeCloseTo(0.38912);
  });

  it('names the missing line when h2load printed no summary', () => {
    expect(() => parseH2loadOutput('connect() failed\n')).toThrow('h2load output: no "finished in" line');
  });

  it('reads failures and 5xx answers', () => {
    const failed = SAMPLE.replace('99456 succeeded, 0 failed', '0 succeeded, 99456 failed').replace(
      '99616 2xx, 0 3xx, 0 4xx, 0 5xx',
      '0 2xx, 0 3xx, 0 4xx, 99616 5xx',
    );
    const summary = parseH2loadOutput(failed);
    expect(summary.requests.failed).toBe(99456);
    expect(summary.statusCodes['5xx']).toBe(99616);
  });
});

describe('parseH2loadDuration', () => {
  it('converts every unit h2load prints to microseconds', () => {
    expect(parseH2loadDuration('75us')).toBe(75);
    expect(parseH2loadDuration('4.20ms')).toBeCloseTo(4200);
    expect(parseH2loadDuration('1.5s')).toBe(1_500_000);
  });

  it('rejects anything else', () => {
    expect(() => parseH2loadDuration('12 ms')).toThrow('expected a duration like 12.3ms, got "12 ms"');
  });
});

describe('parseH2loadLog', () => {
  it('keeps the durations of answered requests and drops the cut-off ones', () => {
    const log = '1795637866818287\t0\t240\n1795637866818595\t200\t188\n1795637868504886\t200\t3817\n';
    expect(parseH2loadLog(log)).toEqual([188, 3817]);
  });

  it('rejects a malformed row', () => {
    expect(() => parseH2loadLog('garbage\n')).toThrow('h2load log: malformed row "garbage"');
  });
});
