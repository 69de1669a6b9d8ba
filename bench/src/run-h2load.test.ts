import { describe, expect, it } from 'vitest';
import { h2loadArgs } from './run-h2load.js';

describe('h2loadArgs', () => {
  it('sends gRPC headers, the body file and the extra headers to the target path', () => {
    const args = h2loadArgs({
      port: 4000,
      path: '/bench.Echo/Sticky',
      headers: { 'session-id': 's1' },
      bodyFile: '/tmp/body-20.bin',
      clients: 8,
      streams: 32,
      durationSeconds: 5,
      warmupSeconds: 1,
      logFile: '/tmp/log',
    });
    expect(args.join(' ')).toBe(
      '-c 8 -m 32 -t 1 -D 5000ms --warm-up-time=1000ms -d /tmp/body-20.bin -H content-type: application/grpc ' +
        '-H te: trailers -H session-id: s1 --log-file=/tmp/log http://127.0.0.1:4000/bench.Echo/Sticky',
    );
  });
});
