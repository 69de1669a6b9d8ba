import { describe, expect, it } from 'vitest';
import { thrownBy } from './thrown-by.js';

class RefusalError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

describe('thrownBy', () => {
  it('returns the error of the class run throws', () => {
    const error = thrownBy(RefusalError, () => {
      throw new RefusalError(['a', 'b']);
    });
    expect(error.problems).toEqual(['a', 'b']);
  });

  it('rethrows any other error, and fails when run returns', () => {
    expect(() =>
      thrownBy(RefusalError, () => {
        throw new TypeError('other');
      }),
    ).toThrow(TypeError);
    expect(() => thrownBy(RefusalError, () => 1)).toThrow('expected a RefusalError');
  });
});
