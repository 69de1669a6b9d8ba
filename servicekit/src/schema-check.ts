import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { type ConfigProblem, isWithin, type PathSegment } from './config-problem.js';

/** What a field's message is told about the check its value failed. */
export interface Failure {
  /** `required`, `type`, `check`, or the JSON Schema keyword that failed (`minimum`, `enum`, `pattern`...). */
  readonly keyword: string;
  readonly path: readonly PathSegment[];
  /** `path` as the reader writes it: `routes[0].prefix`, `clusters["my svc"]`, `RETRY_COUNT`. */
  readonly where: string;
  /** What the schema saw (trimmed; env numbers and booleans already read); `undefined` when missing. */
  readonly value: unknown;
  /** Env variables: the text exactly as set. */
  readonly raw: string | undefined;
  /** Env variables: the text the value was read from (trimmed unless the field has `trim: false`). */
  readonly text: string | undefined;
  /** The bound of `minimum`, `maximum`, `minLength`... */
  readonly limit: number | undefined;
  /** `type`: the JSON type the schema expected (`string`, `object`, `array`, `integer`...). */
  readonly expected: string | undefined;
  /** `check`: what the field's checker said was wrong. */
  readonly reason: string | undefined;
}

export type Message = (failure: Failure) => string;

/**
 * A field's messages, by the keyword that failed: `required`, `type`, `check`, any JSON Schema
 * keyword, and `invalid` for every keyword without its own. Kept beside the field in its schema
 * (`Type.Integer({ minimum: 1, messages: { invalid: ... } })`) so the project's wording, not Ajv's,
 * reaches the reader.
 */
export type Messages = Readonly<Record<string, Message>>;

/**
 * A check the JSON Schema keywords cannot say (a URL, a duration, a host name): returns what is
 * wrong with the string, or `undefined` when it is fine. Used as `Type.String({ check })`.
 */
type Checker = (value: string) => string | undefined;

export interface CheckOptions {
  readonly where: (path: readonly PathSegment[]) => string;
  /** Env variables: the text each value was read from. */
  readonly source?: (
    path: readonly PathSegment[],
  ) => { readonly raw: string; readonly text: string } | undefined;
  /** The message of a wrong type for fields without a `type` message of their own. */
  readonly wrongType?: Message;
}

export type CheckResult<S extends TSchema> =
  | { readonly ok: true; readonly value: Static<S> }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

// One validator for every schema of the process; compiled schemas are cached by identity.
// `useDefaults` writes the schema's defaults into the checked data, so the caller passes a copy.
const ajv = new Ajv({ allErrors: true, useDefaults: true, discriminator: true, strict: true, verbose: true });
ajv.addKeyword({ keyword: 'messages' });
ajv.addKeyword({ keyword: 'trim' });
ajv.addKeyword({ keyword: 'check', type: 'string', errors: true, validate: runChecker });

function runChecker(checker: Checker, value: string): boolean {
  const reason = checker(value);
  if (reason === undefined) return true;
  runChecker.errors = [{ keyword: 'check', message: reason, params: { reason } }];
  return false;
}
const noErrors: Partial<ErrorObject>[] = [];
runChecker.errors = noErrors;

/**
 * Validates `data` against `schema`, filling in its defaults. Either the typed value, or every
 * problem with its path and the field's own message; a value of the wrong type gets that one problem
 * and nothing about what lies below it.
 */
export function checkSchema<S extends TSchema>(
  schema: S,
  data: unknown,
  options: CheckOptions,
): CheckResult<S> {
  const validate = ajv.compile<Static<S>>(schema);
  if (validate(data)) {
    return { ok: true, value: data };
  }
  const found = (validate.errors ?? []).flatMap((error) =>
    toProblem(error, schema, data, options).map((problem) => ({ problem, keyword: error.keyword })),
  );
  const wrongTyped = found.filter(({ problem }) => problem.wrongType).map(({ problem }) => problem.path);
  return {
    ok: false,
    problems: found
      .filter(
        ({ problem, keyword }) =>
          problem.wrongType ||
          // A key's problem is not the value's: a bad id of a wrong-typed entry is still reported.
          keyword === 'propertyNames' ||
          !wrongTyped.some((place) => isWithin(problem.path, place)),
      )
      .map(({ problem }) => problem),
  };
}

interface SchemaNode {
  readonly [keyword: string]: unknown;
  readonly messages?: Messages;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
}

function toProblem(
  error: ErrorObject,
  rootSchema: TSchema,
  root: unknown,
  options: CheckOptions,
): ConfigProblem[] {
  // Errors inside `propertyNames` repeat the `propertyNames` error, which names the key.
  if (error.propertyName !== undefined) return [];
  const at = pathOf(error.instancePath, root);
  // Ajv leaves `parentSchema` off the errors of added keywords (`check`).
  const parent: SchemaNode = error.parentSchema ?? schemaAt(rootSchema, error.schemaPath);
  const params: Readonly<Record<string, unknown>> = error.params;
  let failure: Omit<Failure, 'where' | 'raw' | 'text'>;
  let schema: SchemaNode | undefined = parent;
  switch (error.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      schema = parent.properties?.[missing];
      failure = blankFailure('required', [...at, missing], undefined);
      break;
    }
    case 'discriminator': {
      // The tag's messages sit on the union: its branches only hold the literals.
      const tag = String(params.tag);
      const value = params.tagValue;
      const keyword =
        params.error === 'mapping' ? 'discriminator' : value === undefined ? 'required' : 'type';
      failure = {
        ...blankFailure(keyword, [...at, tag], value),
        expected: keyword === 'type' ? 'string' : undefined,
      };
      break;
    }
    case 'propertyNames':
      failure = blankFailure('propertyNames', [...at, String(params.propertyName)], params.propertyName);
      break;
    default:
      failure = {
        ...blankFailure(error.keyword, at, error.data),
        limit: typeof params.limit === 'number' ? params.limit : undefined,
        expected: error.keyword === 'type' ? String(params.type) : undefined,
        reason: typeof params.reason === 'string' ? params.reason : undefined,
      };
  }
  const source = options.source?.(failure.path);
  const full: Failure = {
    ...failure,
    where: options.where(failure.path),
    raw: source?.raw,
    text: source?.text,
  };
  const wrongType = full.keyword === 'type';
  const messages = schema?.messages;
  const message =
    messages?.[full.keyword] ??
    (wrongType ? options.wrongType : undefined) ??
    messages?.invalid ??
    ((f: Failure) => `${f.where} ${error.message ?? 'is invalid'}`);
  return [{ path: full.path, message: message(full), ...(wrongType ? { wrongType } : {}) }];
}

function blankFailure(
  keyword: string,
  path: readonly PathSegment[],
  value: unknown,
): Omit<Failure, 'where' | 'raw' | 'text'> {
  return { keyword, path, value, limit: undefined, expected: undefined, reason: undefined };
}

/** A JSON pointer as path segments, list indices as numbers (the data tells which is which). */
function pathOf(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let node = root;
  for (const escaped of pointer.slice(1).split('/')) {
    const key = escaped.replaceAll('~1', '/').replaceAll('~0', '~');
    const segment = Array.isArray(node) ? Number(key) : key;
    path.push(segment);
    node = isNode(node) ? node[segment] : undefined;
  }
  return path;
}

/** The schema holding the keyword at `schemaPath` (`#/properties/URL/check`). */
function schemaAt(root: TSchema, schemaPath: string): SchemaNode {
  let node: unknown = root;
  for (const segment of schemaPath.split('/').slice(1, -1)) {
    const key = decodeURIComponent(segment).replaceAll('~1', '/').replaceAll('~0', '~');
    node = isNode(node) ? node[key] : undefined;
  }
  return isNode(node) ? node : {};
}

function isNode(value: unknown): value is SchemaNode {
  return value !== null && typeof value === 'object';
}
