import type { Static, TObject } from '@sinclair/typebox';
import { ConfigError } from './config-error.js';
import type { ConfigProblem } from './config-problem.js';
import { deepFreeze } from './deep-freeze.js';
import { type CheckResult, checkSchema } from './schema-check.js';
import { readSecretSetting } from './secret-setting.js';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the variables `schema` declares from `env` and validates them; the schema gives the type,
 * the defaults (`default`) and the checks with their messages (`messages`), field by field.
 *
 * Before the check, each value is trimmed (unless its field says `trim: false`), an empty one counts
 * as unset (so the default applies), `integer` fields read `[+-]digits`, and `boolean` fields read
 * true/false/1/0 in any case. Text that does not read as its type stays text and fails the type check
 * with the field's message. Problems come in the order the schema declares its variables.
 */
export function checkEnv<S extends TObject>(schema: S, env: Env): CheckResult<S> {
  const data: Record<string, unknown> = {};
  const sources = new Map<string, { raw: string; text: string }>();
  for (const [name, field] of Object.entries(schema.properties)) {
    const raw = env[name];
    if (raw === undefined) continue;
    const text = field.trim === false ? raw : raw.trim();
    if (text === '') continue;
    sources.set(name, { raw, text });
    data[name] = readAs(field.type, text);
  }
  const result = checkSchema(schema, data, {
    where: (path) => String(path[0]),
    source: (path) => sources.get(String(path[0])),
  });
  return result.ok ? result : { ok: false, problems: inDeclarationOrder(schema, result.problems) };
}

/** `problems` about the variables of `schema` (the path starts with the name), sorted as it declares them. */
export function inDeclarationOrder(schema: TObject, problems: readonly ConfigProblem[]): ConfigProblem[] {
  const names = Object.keys(schema.properties);
  const rank = (problem: ConfigProblem) => {
    const index = names.indexOf(String(problem.path[0]));
    return index === -1 ? names.length : index;
  };
  return [...problems].sort((a, b) => rank(a) - rank(b));
}

function readAs(type: unknown, text: string): unknown {
  if (type === 'integer') {
    const value = /^[+-]?[0-9]+$/.test(text) ? Number(text) : Number.NaN;
    return Number.isSafeInteger(value) ? value : text;
  }
  if (type === 'boolean') {
    const word = text.trim().toLowerCase();
    if (word === 'true' || word === '1') return true;
    if (word === 'false' || word === '0') return false;
  }
  return text;
}

/**
 * The whole load of an env-configured service: {@link checkEnv}, then `build` turns the typed
 * settings into the service's config, which comes back deep-frozen. Throws a {@link ConfigError}
 * with every problem.
 */
export function loadEnvConfig<S extends TObject, T>(
  schema: S,
  env: Env,
  build: (settings: Static<S>) => T,
): T {
  return loadEnvConfigWith(schema, env, { extras: () => ({}), build: (settings) => build(settings) });
}

/** What a service reads from its environment beside its schema, its problems reported to the load. */
export interface EnvExtras {
  /** A problem the schema cannot see; it is listed among the schema's, by the variable it names. */
  report(problem: ConfigProblem): void;
  /**
   * The secret `name`, inline or from `<name>_FILE` (see readSecretSetting): `undefined` when unset,
   * or when it is wrong, its problem then reported.
   */
  secret(name: string): string | undefined;
  /** The same, and unset is the problem `message`. */
  requiredSecret(name: string, message: string): string | undefined;
}

/** The two steps of {@link loadEnvConfigWith}. */
export interface EnvConfigSteps<S extends TObject, X, T> {
  /**
   * Reads and checks what the schema cannot (secrets, values taken from several variables). It runs
   * even when the schema's check failed, so every problem is reported at once. `undefined`: a value
   * the config needs is missing, its problem reported.
   */
  readonly extras: (read: EnvExtras) => X | undefined;
  /** The service's config from the typed settings and the extras; called only when nothing is wrong. */
  readonly build: (settings: Static<S>, extras: X) => T;
}

/**
 * The load of a service whose config takes more than its schema: {@link checkEnv}, then
 * `steps.extras` reads the rest; any problem of either, and a ConfigError lists them all in the
 * order `schema` declares its variables; else `steps.build` gives the config, deep-frozen.
 */
export function loadEnvConfigWith<S extends TObject, X, T>(
  schema: S,
  env: Env,
  steps: EnvConfigSteps<S, X, T>,
): T {
  const result = checkEnv(schema, env);
  const problems: ConfigProblem[] = result.ok ? [] : [...result.problems];
  const read = (name: string, required?: string): string | undefined => {
    const setting = readSecretSetting(env, name);
    if (!setting.ok) problems.push(setting.problem);
    else if (setting.value === undefined && required !== undefined) {
      problems.push({ path: [name], message: required });
    }
    return setting.ok ? setting.value : undefined;
  };
  const extras = steps.extras({
    report: (problem) => {
      problems.push(problem);
    },
    secret: (name) => read(name),
    requiredSecret: (name, message) => read(name, message),
  });
  if (!result.ok || extras === undefined || problems.length > 0) {
    throw ConfigError.of(inDeclarationOrder(schema, problems));
  }
  return deepFreeze(steps.build(result.value, extras));
}
