import type { ConfigProblem } from './config-problem.js';

/**
 * The one refusal for configuration every service throws: the environment or a config file is
 * unusable. `problems` lists every problem found, in the service's checking order (so `problems[0]`
 * is the one a reference implementation that stops early would report); `message` is them joined by
 * newlines. `hints` are extra lines for the reader, printed after the problems.
 */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  readonly hints: readonly string[];

  constructor(problems: readonly string[], hints: readonly string[] = []) {
    if (problems.length === 0) {
      throw new TypeError('ConfigError needs at least one problem');
    }
    super(problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
    this.hints = Object.freeze([...hints]);
  }

  static of(problems: readonly ConfigProblem[]): ConfigError {
    return new ConfigError(
      problems.map((problem) => problem.message),
      problems.flatMap((problem) => (problem.hint === undefined ? [] : [problem.hint])),
    );
  }
}
