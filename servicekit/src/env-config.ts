import type { Static, TObject } from '@sinclair/typebox';
import { ConfigError } from './config-error.js';
import type { ConfigProblem } from './config-problem.js';
import { deepFreeze } from './deep-freeze.js';
import { type CheckResult, checkSchema } from './schema-check.js';

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
  const result = checkEnv(schema, env);
  if (!result.ok) throw ConfigError.of(result.problems);
  return deepFreeze(build(result.value));
}
