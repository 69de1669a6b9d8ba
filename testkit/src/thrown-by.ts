/**
 * The error of class `type` that `run` throws, for a test to look into (a ConfigError's problems).
 * Anything else `run` throws is rethrown; a `run` that returns fails with `expected a <type>`.
 */
export function thrownBy<E extends Error>(type: abstract new (...args: never[]) => E, run: () => unknown): E {
  try {
    run();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}`);
}
