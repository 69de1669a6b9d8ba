import { ConfigError } from './config-error.js';

/** Prints `lines` on stderr and exits 1: how a service refuses to start (bad config, port taken). */
export function refuseToStart(lines: readonly string[]): never {
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(1);
}

/**
 * Runs a service's config loader; a {@link ConfigError} refuses the start with `render(error)`
 * (by default one line per problem, then the hints). Any other error is a bug and propagates.
 */
export function loadConfigOrExit<T>(
  load: () => T,
  render: (error: ConfigError) => readonly string[] = (error) => [...error.problems, ...error.hints],
): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) refuseToStart(render(error));
    throw error;
  }
}
