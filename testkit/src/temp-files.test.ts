import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeTempFiles } from './temp-files.js';

describe('writeTempFiles', () => {
  it('writes each file into a fresh directory under the temp dir and gives their paths', () => {
    const { dir, paths } = writeTempFiles('testkit-files-', { jwt: 'secret\n', empty: '' });
    try {
      expect(dirname(dir)).toBe(tmpdir());
      expect(paths).toEqual({ jwt: join(dir, 'jwt'), empty: join(dir, 'empty') });
      expect(readFileSync(paths.jwt, 'utf8')).toBe('secret\n');
      expect(readFileSync(paths.empty, 'utf8')).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
