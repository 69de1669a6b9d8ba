import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSecretSetting } from './secret-setting.js';

const dir = mkdtempSync(join(tmpdir(), 'secret-setting-'));
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, 's3cret-from-file\n');
const blankFile = join(dir, 'blank');
writeFileSync(blankFile, ' \n');

describe('readSecretSetting', () => {
  it('reads the inline value or the file, trimmed', () => {
    expect(readSecretSetting({ TOKEN: ' inline ' }, 'TOKEN')).toEqual({ ok: true, value: 'inline' });
    expect(readSecretSetting({ TOKEN_FILE: tokenFile }, 'TOKEN')).toEqual({
      ok: true,
      value: 's3cret-from-file',
    });
  });

  it('is undefined when neither is set (blank counts as unset)', () => {
    expect(readSecretSetting({}, 'TOKEN')).toEqual({ ok: true, value: undefined });
    expect(readSecretSetting({ TOKEN: ' ', TOKEN_FILE: '' }, 'TOKEN')).toEqual({
      ok: true,
      value: undefined,
    });
  });

  it('refuses both at once, an unreadable file and an empty one, naming the variable and never the secret', () => {
    const both = readSecretSetting({ TOKEN: 'inline-secret', TOKEN_FILE: tokenFile }, 'TOKEN');
    expect(both).toEqual({
      ok: false,
      problem: { path: ['TOKEN'], message: 'TOKEN and TOKEN_FILE are both set: set only one of them' },
    });
    const missing = join(dir, 'missing');
    expect(readSecretSetting({ TOKEN_FILE: missing }, 'TOKEN')).toEqual({
      ok: false,
      problem: { path: ['TOKEN_FILE'], message: `TOKEN_FILE: cannot read ${missing}: ENOENT` },
    });
    expect(readSecretSetting({ TOKEN_FILE: blankFile }, 'TOKEN')).toEqual({
      ok: false,
      problem: { path: ['TOKEN_FILE'], message: `TOKEN_FILE: ${blankFile} is empty` },
    });
    expect(JSON.stringify(both)).not.toContain('inline-secret');
  });
});
