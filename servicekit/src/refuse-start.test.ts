import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfigOrExit } from './refuse-start.js';

class Exited extends Error {}

function capture() {
  const written: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  const exit = vi.spyOn(process, 'exit').mockImplementation(() => {
    throw new Exited();
  });
  return { written, exit };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('loadConfigOrExit', () => {
  it('returns what the loader returns', () => {
    expect(loadConfigOrExit(() => 42)).toBe(42);
  });

  it('refuses a ConfigError with one line per problem, then the hints, and exit code 1', () => {
    const { written, exit } = capture();
    expect(() =>
      loadConfigOrExit(() => {
        throw new ConfigError(['A is required', 'B is bad'], ['Set A.']);
      }),
    ).toThrow(Exited);
    expect(written.join('')).toBe('A is required\nB is bad\nSet A.\n');
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('prints what `render` makes of the error', () => {
    const { written } = capture();
    expect(() =>
      loadConfigOrExit(
        () => {
          throw new ConfigError(['A is required']);
        },
        (error) => ['failed', ...error.problems.map((problem) => `  ${problem}`)],
      ),
    ).toThrow(Exited);
    expect(written.join('')).toBe('failed\n  A is required\n');
  });

  it('lets any other error through: it is a bug, not a refusal', () => {
    const { exit } = capture();
    expect(() =>
      loadConfigOrExit(() => {
        throw new RangeError('bug');
      }),
    ).toThrow(RangeError);
    expect(exit).not.toHaveBeenCalled();
  });
});
