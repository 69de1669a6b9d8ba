import { describe, expect, it } from 'vitest';
import { parseGoDuration } from './duration.js';

describe('parseGoDuration', () => {
  it.each([
    ['1h', 3_600_000],
    ['30m', 1_800_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['5.s', 5_000],
    ['1500us', 1.5],
    ['1500\u00b5s', 1.5],
    ['1500\u03bcs', 1.5],
    ['2000000ns', 2],
    ['+2m', 120_000],
    ['-2m', -120_000],
    ['0', 0],
    ['0s', 0],
    ['1h0m0s', 3_600_000],
  ])('parses %j as %d ms', (text, millis) => {
    expect(parseGoDuration(text)).toBe(millis);
  });

  it.each([
    ['', 'time: invalid duration ""'],
    ['-', 'time: invalid duration "-"'],
    ['abc', 'time: invalid duration "abc"'],
    ['.s', 'time: invalid duration ".s"'],
    ['1h-1m', 'time: unknown unit "h-" in duration "1h-1m"'],
    [' 1h', 'time: invalid duration " 1h"'],
    ['1', 'time: missing unit in duration "1"'],
    ['1h30', 'time: missing unit in duration "1h30"'],
    ['10x', 'time: unknown unit "x" in duration "10x"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
  ])('rejects %j with %j', (text, message) => {
    expect(() => parseGoDuration(text)).toThrow(message);
  });
});
