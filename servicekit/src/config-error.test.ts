import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';

describe('ConfigError', () => {
  it('holds every problem, frozen, and joins them into its message', () => {
    const error = new ConfigError(['A is required', 'B must be positive'], ['Set A.']);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toBe('A is required\nB must be positive');
    expect(error.problems).toEqual(['A is required', 'B must be positive']);
    expect(error.hints).toEqual(['Set A.']);
    expect(Object.isFrozen(error.problems)).toBe(true);
  });

  it('is built from problems with paths, keeping their hints', () => {
    const error = ConfigError.of([
      { path: ['A'], message: 'A is required', hint: 'Set A.' },
      { path: ['B'], message: 'B is bad' },
    ]);
    expect(error.problems).toEqual(['A is required', 'B is bad']);
    expect(error.hints).toEqual(['Set A.']);
  });

  it('refuses to exist without a problem', () => {
    expect(() => new ConfigError([])).toThrow(TypeError);
  });
});
