/** A start-up refusal; the message names the variable and is printed as is before exiting 1. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
