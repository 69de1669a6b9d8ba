/** What one h2load run reports (its summary lines), as numbers. Durations are in microseconds. */
export interface H2loadSummary {
  readonly durationSeconds: number;
  readonly requestsPerSecond: number;
  readonly requests: {
    readonly total: number;
    readonly started: number;
    readonly done: number;
    readonly succeeded: number;
    readonly failed: number;
    readonly errored: number;
    readonly timeout: number;
  };
  readonly statusCodes: {
    readonly '2xx': number;
    readonly '3xx': number;
    readonly '4xx': number;
    readonly '5xx': number;
  };
  /** Bytes of response DATA (h2load's "data" figure), used for MiB/s. */
  readonly dataBytes: number;
  readonly timeForRequestMicros: {
    readonly min: number;
    readonly max: number;
    readonly mean: number;
    readonly sd: number;
  };
}

const UNIT_TO_MICROS: Record<string, number> = { us: 1, ms: 1_000, s: 1_000_000 };

/** Parses h2load's `123us` / `4.5ms` / `1.2s` into microseconds. */
export function parseH2loadDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(us|ms|s)$/.exec(text.trim());
  if (match === null) throw new Error(`h2load output: expected a duration like 12.3ms, got "${text}"`);
  return Number(match[1]) * (UNIT_TO_MICROS[match[2] as string] as number);
}

function line(output: string, pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(output);
  if (match === null) throw new Error(`h2load output: no ${what} line`);
  return match;
}

/** Parses the summary h2load prints at the end of a run (nghttp2 1.52 format). */
export function parseH2loadOutput(output: string): H2loadSummary {
  const finished = line(output, /^finished in ([\d.]+(?:us|ms|s)), ([\d.]+) req\/s/m, '"finished in"');
  const requests = line(
    output,
    /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m,
    '"requests:"',
  );
  const codes = line(output, /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m, '"status codes:"');
  const traffic = line(output, /^traffic: .*?, [\d.]+\w*B \((\d+)\) data$/m, '"traffic:"');
  const time = line(output, /^time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/m, '"time for request:"');
  const n = (match: RegExpExecArray, i: number) => Number(match[i]);
  return {
    durationSeconds: parseH2loadDuration(finished[1] as string) / 1_000_000,
    requestsPerSecond: n(finished, 2),
    requests: {
      total: n(requests, 1),
      started: n(requests, 2),
      done: n(requests, 3),
      succeeded: n(requests, 4),
      failed: n(requests, 5),
      errored: n(requests, 6),
      timeout: n(requests, 7),
    },
    statusCodes: { '2xx': n(codes, 1), '3xx': n(codes, 2), '4xx': n(codes, 3), '5xx': n(codes, 4) },
    dataBytes: n(traffic, 1),
    timeForRequestMicros: {
      min: parseH2loadDuration(time[1] as string),
      max: parseH2loadDuration(time[2] as string),
      mean: parseH2loadDuration(time[3] as string),
      sd: parseH2loadDuration(time[4] as string),
    },
  };
}

/**
 * Reads h2load's `--log-file` (tab-separated: start time in µs since the epoch, HTTP status, µs
 * until the end of the response) and returns the durations of the requests answered with `status`.
 * h2load writes status 0 for a request cut off when the run ended; those are left out.
 */
export function parseH2loadLog(text: string, status = 200): number[] {
  const durations: number[] = [];
  for (const row of text.split('\n')) {
    if (row === '') continue;
    const [, code, micros] = row.split('\t');
    if (code === undefined || micros === undefined) throw new Error(`h2load log: malformed row "${row}"`);
    if (Number(code) === status) durations.push(Number(micros));
  }
  return durations;
}
