import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkDocument, describeValue, documentPath } from './document-config.js';
import type { Messages } from './schema-check.js';
import { stringEnum, taggedUnion } from './schema-types.js';

const Shape = taggedUnion(
  'kind',
  [
    Type.Object({ kind: Type.Literal('circle'), radius: Type.Integer({ minimum: 1 }) }),
    Type.Object({ kind: Type.Literal('square'), side: Type.Integer() }),
  ],
  {
    tagDefault: 'circle',
    messages: { invalid: ({ path }) => `shape ${path[1]}: kind must be circle|square` } satisfies Messages,
  },
);

const Drawing = Type.Object({
  title: Type.String({ default: 'untitled' }),
  colour: stringEnum(['red', 'blue'], { default: 'red' }),
  layers: Type.Array(Type.Object({ name: Type.String() }), { default: [] }),
  shapes: Type.Record(Type.String(), Shape, { default: {} }),
});

const read = (text: string) => checkDocument(Drawing, parse(text, { mapAsMap: true }));

describe('checkDocument', () => {
  it('fills defaults, trims strings and treats blank and null entries as absent', () => {
    const result = read('title: "  "\ncolour: " blue "\nshapes:\n  a: { radius: 2, note: }\n');
    expect(result.ok && result.value).toEqual({
      title: 'untitled',
      colour: 'blue',
      layers: [],
      shapes: { a: { kind: 'circle', radius: 2 } },
    });
  });

  it('reports a wrong type with its path and what was expected, and nothing below it', () => {
    const result = read(
      'layers: [{ name: 5 }, 3]\nshapes: { "my shape": [1], b: { kind: circle, radius: x } }\n',
    );
    expect(!result.ok && result.problems.map((problem) => problem.message)).toEqual([
      'layers[0].name: expected a string, got 5',
      'layers[1]: expected a mapping, got 3',
      'shapes["my shape"]: expected a mapping, got a list',
      'shapes.b.radius: expected an integer, got "x"',
    ]);
  });

  it('checks a tagged value against its own branch, and an unknown tag once', () => {
    const result = read(
      'shapes: { a: { kind: square }, b: { kind: hexagon, radius: 0 }, c: { radius: 0 } }\n',
    );
    expect(!result.ok && result.problems.map((problem) => [problem.path, problem.message])).toEqual([
      [['shapes', 'a', 'side'], "shapes.a.side must have required property 'side'"],
      [['shapes', 'b', 'kind'], 'shape b: kind must be circle|square'],
      [['shapes', 'c', 'radius'], 'shapes.c.radius must be >= 1'],
    ]);
  });

  it('keeps blank text where a mapping or number belongs, for its type problem, and ids of empty entries', () => {
    const result = read('title: 5\nlayers: "  "\nshapes:\n  b: { kind: circle, radius: " 2 " }\n');
    expect(!result.ok && result.problems.map((problem) => problem.message)).toEqual([
      'title: expected a string, got 5',
      'layers: expected a list, got "  "',
      'shapes.b.radius: expected an integer, got " 2 "',
    ]);
    const empty = read('layers: [~]\nshapes:\n  a:\n');
    expect(!empty.ok && empty.problems.map((problem) => problem.message)).toEqual([
      "layers[0].name must have required property 'name'",
      "shapes.a.radius must have required property 'radius'",
    ]);
  });

  it('keeps `__proto__` as an ordinary key', () => {
    const result = read('shapes:\n  __proto__: { radius: 1 }\n');
    expect(result.ok && Object.keys(result.value.shapes)).toEqual(['__proto__']);
  });

  it('writes paths and values the way a reader of the file does', () => {
    expect(documentPath(['routes', 0, 'balancer', 'type'])).toBe('routes[0].balancer.type');
    expect(documentPath(['clusters', '10'])).toBe('clusters["10"]');
    expect(describeValue('x'.repeat(100))).toBe(JSON.stringify(`${'x'.repeat(80)}...`));
    expect([describeValue(null), describeValue(new Map()), describeValue(Number.NaN)]).toEqual([
      'nothing',
      'a mapping',
      'NaN',
    ]);
  });
});
