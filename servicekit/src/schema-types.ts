import {
  type SchemaOptions,
  type Static,
  type TObject,
  type TUnion,
  type TUnsafe,
  Type,
} from '@sinclair/typebox';

/** A string that must be one of `values` (JSON Schema `enum`, so one message covers every wrong value). */
export function stringEnum<const T extends readonly string[]>(
  values: T,
  options: SchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: values });
}

/**
 * A union of object shapes told apart by the string field `tag` (`type: static` or `type: dynamic`).
 * Validated through Ajv's `discriminator`, so a value is checked against its own branch only and the
 * problems are that branch's; a tag matching no branch is one problem, with the union's messages
 * (`discriminator` or `invalid`; `required` when the tag is missing). `tagDefault` fills a missing tag.
 */
export function taggedUnion<const T extends TObject[]>(
  tag: string,
  branches: [...T],
  options: SchemaOptions & { readonly tagDefault?: string } = {},
): TUnsafe<Static<TUnion<T>>> {
  const { tagDefault, ...rest } = options;
  return Type.Unsafe<Static<TUnion<T>>>({
    ...rest,
    type: 'object',
    discriminator: { propertyName: tag },
    oneOf: branches,
    ...(tagDefault === undefined ? {} : { properties: { [tag]: { default: tagDefault } } }),
  });
}
