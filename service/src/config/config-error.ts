/**
 * A configuration value the worker refuses to start with. `message` is the reference text of
 * REFERENCE.md 5.1 (printed as `Configuration error: <message>`); `hint` is an optional extra line.
 */
export class ConfigError extends Error {
  readonly hint: string | undefined;

  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'ConfigError';
    this.hint = hint;
  }
}
