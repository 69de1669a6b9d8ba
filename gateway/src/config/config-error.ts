/**
 * Thrown by the config loader when the environment or the YAML file is unusable (REFERENCE.md 6.1,
 * 6.2). `problems` lists every problem found, in the reference's checking order, so the first one is
 * the failure the reference would have stopped at. `main.ts` prints `message` and exits 1.
 */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    if (problems.length === 0) {
      throw new TypeError('ConfigError needs at least one problem');
    }
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}
