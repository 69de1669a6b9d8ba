import type { TSchema } from '@sinclair/typebox';
import type { PathSegment } from './config-problem.js';
import { type CheckResult, checkSchema, type Failure } from './schema-check.js';

/**
 * Validates a parsed config document (`yaml`'s `toJS({ mapAsMap: true })`: mappings are `Map`s,
 * so `__proto__` is an ordinary key) against `schema`, filling in its defaults.
 *
 * The document is first copied to plain data: text fields trimmed, and a mapping entry that is YAML
 * `null` (`key:` with no value) or blank text dropped, so it counts as absent and its default applies; in a
 * mapping keyed by ids (a `Type.Record`) such an entry is an empty mapping instead, so the id stays
 * (`clusters: { x: }` is a cluster `x` with every field absent), and so is a `null` item of a list
 * of mappings. A wrong
 * type is reported as `<path>: expected <a mapping|a list|a string|...>, got <value>` unless the
 * field has a `type` message. `data` is the checked copy, for checks across fields that must run
 * even where the schema found problems.
 */
export function checkDocument<S extends TSchema>(
  schema: S,
  document: unknown,
): CheckResult<S> & { readonly data: unknown } {
  const data = plainData(document, schema);
  return { ...checkSchema(schema, data, { where: documentPath, wrongType: expectedType }), data };
}

/** `routes[0].prefix`, `clusters.my_service`, `clusters["my svc"]`. */
export function documentPath(path: readonly PathSegment[]): string {
  return path
    .map((segment, i) => {
      if (typeof segment === 'number') return `[${segment}]`;
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) return `[${JSON.stringify(segment)}]`;
      return i === 0 ? segment : `.${segment}`;
    })
    .join('');
}

/** Short, single-line rendering of a document value for a message (long strings are cut). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null || value === undefined) {
    return 'nothing';
  }
  if (Array.isArray(value)) {
    return 'a list';
  }
  if (value instanceof Map || typeof value === 'object') {
    return 'a mapping';
  }
  return 'an unsupported value';
}

const EXPECTED: Readonly<Record<string, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
};

function expectedType({ where, expected, value }: Failure): string {
  return `${where}: expected ${EXPECTED[expected ?? ''] ?? expected}, got ${describeValue(value)}`;
}

interface SchemaNode {
  readonly [keyword: string]: unknown;
  readonly type?: unknown;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly patternProperties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
  readonly oneOf?: readonly SchemaNode[];
}

/** The schema of `key` in a mapping checked by `schema`, looking into the branches of a union. */
function entrySchema(schema: SchemaNode | undefined, key: string): SchemaNode | undefined {
  if (schema?.patternProperties) return Object.values(schema.patternProperties)[0];
  return schema?.properties?.[key] ?? schema?.oneOf?.map((branch) => branch.properties?.[key]).find(Boolean);
}

function isText(schema: SchemaNode | undefined): boolean {
  return schema?.type === undefined || schema.type === 'string';
}

/**
 * `schema` is where the value belongs; where that is unknown (an ignored key) it is read as text.
 * A string where a mapping, list or number belongs is kept as written, for its type problem.
 */
function plainData(value: unknown, schema: SchemaNode | undefined): unknown {
  if (typeof value === 'string') {
    return isText(schema) ? value.trim() : value;
  }
  if (Array.isArray(value)) {
    return value.map((item) =>
      item === null && schema?.items?.type === 'object'
        ? Object.create(null)
        : plainData(item, schema?.items),
    );
  }
  if (value instanceof Map) {
    // No prototype: a `__proto__` or `constructor` key is data like any other.
    const mapping: Record<string, unknown> = Object.create(null);
    for (const [key, child] of value) {
      const childSchema = entrySchema(schema, String(key));
      const plain = plainData(child, childSchema);
      if (plain !== null && plain !== undefined && !(plain === '' && isText(childSchema))) {
        mapping[String(key)] = plain;
      } else if (schema?.patternProperties && childSchema?.type === 'object') {
        mapping[String(key)] = Object.create(null);
      }
    }
    return mapping;
  }
  return value;
}
