import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { checkEnv, inDeclarationOrder, loadEnvConfigWith } from './env-config.js';
import type { Messages } from './schema-check.js';
import { stringEnum } from './schema-types.js';

const Env = Type.Object({
  PORT: Type.Integer({
    minimum: 1,
    maximum: 65535,
    messages: {
      required: () => 'PORT is required',
      type: ({ raw }) => `PORT: ${JSON.stringify(raw)} is not an integer`,
      invalid: ({ value, limit }) => `PORT: ${value} is out of range (limit ${limit})`,
    } satisfies Messages,
  }),
  NAME: Type.String({ default: 'anon', trim: false }),
  MODE: stringEnum(['a', 'b'], {
    default: 'a',
    messages: { invalid: ({ text }) => `MODE must be a|b, got ${text}` } satisfies Messages,
  }),
  ENABLED: Type.Boolean({ default: true }),
  URL: Type.Optional(
    Type.String({
      check: (value: string) => (value.startsWith('http') ? undefined : 'not http'),
      messages: { check: ({ reason }) => `URL: ${reason}` } satisfies Messages,
    }),
  ),
});

function problems(env: Record<string, string | undefined>): readonly string[] {
  const result = checkEnv(Env, env);
  if (result.ok) throw new Error('expected problems');
  return result.problems.map((problem) => problem.message);
}

describe('checkEnv', () => {
  it('reads the declared variables with their types and defaults, and nothing else', () => {
    const result = checkEnv(Env, { PORT: ' 80 ', ENABLED: 'FALSE', OTHER: 'x' });
    expect(result).toEqual({ ok: true, value: { PORT: 80, NAME: 'anon', MODE: 'a', ENABLED: false } });
  });

  it('trims, counts blank as unset, and keeps the text of trim: false fields', () => {
    const result = checkEnv(Env, { PORT: '+8', NAME: ' padded ', MODE: '  ', ENABLED: '1' });
    expect(result).toEqual({ ok: true, value: { PORT: 8, NAME: ' padded ', MODE: 'a', ENABLED: true } });
  });

  it('reports every problem at once, in declaration order, with the field messages', () => {
    expect(problems({ URL: 'ftp://x', MODE: 'c', ENABLED: 'maybe' })).toEqual([
      'PORT is required',
      'MODE must be a|b, got c',
      'ENABLED must be boolean',
      'URL: not http',
    ]);
  });

  it('gives a wrong type its own message and the bounds to the others', () => {
    expect(problems({ PORT: ' 8o ' })).toEqual(['PORT: " 8o " is not an integer']);
    expect(problems({ PORT: '1.5' })).toEqual(['PORT: "1.5" is not an integer']);
    expect(problems({ PORT: '99999999999999999999' })).toEqual([
      'PORT: "99999999999999999999" is not an integer',
    ]);
    expect(problems({ PORT: '0' })).toEqual(['PORT: 0 is out of range (limit 1)']);
    expect(problems({ PORT: '65536' })).toEqual(['PORT: 65536 is out of range (limit 65535)']);
  });

  it('sorts problems found after the schema among the schema ones', () => {
    const sorted = inDeclarationOrder(Env, [
      { path: ['URL'], message: 'u' },
      { path: ['ELSEWHERE'], message: 'e' },
      { path: ['PORT'], message: 'p' },
    ]);
    expect(sorted.map((problem) => problem.message)).toEqual(['p', 'u', 'e']);
  });
});

describe('loadEnvConfigWith', () => {
  // The secrets are read beside the schema and declared in it for the order of the problems.
  const WithSecrets = Type.Object({
    PORT: Env.properties.PORT,
    PREVIOUS: Type.Optional(Type.String()),
    PREVIOUS_FILE: Type.Optional(Type.String()),
    TOKEN: Type.Optional(Type.String()),
    TOKEN_FILE: Type.Optional(Type.String()),
  });
  const load = (env: Record<string, string | undefined>) =>
    loadEnvConfigWith(WithSecrets, env, {
      extras: (read) => {
        const token = read.requiredSecret('TOKEN', 'TOKEN is required');
        const previous = read.secret('PREVIOUS');
        if (previous !== undefined && previous === token)
          read.report({ path: ['PREVIOUS'], message: 'same' });
        return token === undefined ? undefined : { token, previous };
      },
      build: (settings, extras) => ({ port: settings.PORT, ...extras }),
    });

  const refusal = (env: Record<string, string | undefined>, problems: readonly string[]) =>
    expect(() => load(env)).toThrow(expect.objectContaining({ name: 'ConfigError', problems }));

  it('builds the config from the settings and the extras, deep-frozen', () => {
    const config = load({ PORT: '80', TOKEN: ' t ' });
    expect(config).toEqual({ port: 80, token: 't', previous: undefined });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads the extras even when the schema fails, and lists every problem in the schema's order", () => {
    refusal({ PREVIOUS: 'x', PREVIOUS_FILE: '/nowhere' }, [
      'PORT is required',
      'PREVIOUS and PREVIOUS_FILE are both set: set only one of them',
      'TOKEN is required',
    ]);
    refusal({ PORT: '80', TOKEN: 'same', PREVIOUS: 'same' }, ['same']);
  });
});
