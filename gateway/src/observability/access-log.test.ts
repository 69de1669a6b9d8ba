import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type AccessLogEntry, PinoAccessLog } from './access-log.js';

const ENTRIES: AccessLogEntry[] = [
  {
    method: '/probe.v1.Probe/Unary',
    grpcStatus: 0,
    durationMs: 0.412,
    cluster: 'echo',
    endpoint: 'echo-1',
    attempts: 1,
    transfers: 0,
    reason: undefined,
  },
  {
    method: '/odd"path\\with\ncontrol\u0001and é ☃ \ud83d\ude00',
    grpcStatus: 14,
    durationMs: 12,
    cluster: undefined,
    endpoint: undefined,
    attempts: 0,
    transfers: 2,
    reason: 'retries_exhausted',
  },
];

/** What `pino().info(entry, 'call finished')` printed, the format the hand-built line keeps. */
function pinoLines(entries: readonly AccessLogEntry[]): string[] {
  const lines: string[] = [];
  const logger = pino(
    { base: { service: 'gateway', log: 'access' }, timestamp: pino.stdTimeFunctions.isoTime },
    { write: (line: string) => lines.push(line.trimEnd()) },
  );
  for (const entry of entries) logger.info(entry, 'call finished');
  return lines;
}

function withoutTime(line: string): unknown {
  const parsed = JSON.parse(line) as Record<string, unknown>;
  expect(typeof parsed.time).toBe('string');
  expect(Number.isNaN(Date.parse(parsed.time as string))).toBe(false);
  parsed.time = '<time>';
  return JSON.stringify(parsed);
}

describe('PinoAccessLog', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function written(level: string, entries: readonly AccessLogEntry[]): Promise<string[]> {
    dir = await mkdtemp(join(tmpdir(), 'access-log-'));
    const file = join(dir, 'access.log');
    const fd = openSync(file, 'w');
    try {
      const log = new PinoAccessLog(level, fd);
      for (const entry of entries) log.record(entry);
      log.close();
    } finally {
      closeSync(fd);
    }
    const text = await readFile(file, 'utf8').catch(() => '');
    return text === '' ? [] : text.trimEnd().split('\n');
  }

  it('writes one line per call, field for field what pino wrote', async () => {
    const lines = await written('info', ENTRIES);
    const expected = pinoLines(ENTRIES);
    expect(lines).toHaveLength(expected.length);
    lines.forEach((line, i) => {
      expect(withoutTime(line)).toBe(withoutTime(expected[i] as string));
    });
    expect(lines[0]).toMatch(/^\{"level":30,"time":"[^"]+","service":"gateway","log":"access","method":/);
  });

  it('writes nothing when the level is above info', async () => {
    expect(await written('warn', ENTRIES)).toEqual([]);
    expect(await written('silent', ENTRIES)).toEqual([]);
  });
});
