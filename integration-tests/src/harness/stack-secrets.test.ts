import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readOrCreateSecretsFile, redisAclFile, writeComposeSecrets } from './stack-secrets.js';

describe('stack secrets', () => {
  it('creates .stack/secrets.env once with mode 0600 and reuses it, adding only what is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stack-secrets-'));
    const file = join(dir, 'nested', 'secrets.env');
    const first = readOrCreateSecretsFile(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    for (const value of Object.values(first)) expect(value).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(Object.values(first)).size).toBe(5);
    expect(readOrCreateSecretsFile(file)).toEqual(first);

    writeFileSync(file, `DISCOVERER_TOKEN=kept-token\n`);
    const refilled = readOrCreateSecretsFile(file);
    expect(refilled.discovererToken).toBe('kept-token');
    expect(refilled.redisAdminPassword).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(file, 'utf8')).toContain(`REDIS_ADMIN_PASSWORD=${refilled.redisAdminPassword}\n`);
  });

  it('writes the compose files private, the ACL file readable by the Redis container', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-secrets-'));
    const secrets = readOrCreateSecretsFile(join(dir, 'secrets.env'));
    writeComposeSecrets(secrets, join(dir, 'secrets'));
    for (const name of ['redis', 'discoverer', 'auth', 'service', 'gateway'])
      expect(statSync(join(dir, 'secrets', `${name}.env`)).mode & 0o777, name).toBe(0o600);
    expect(statSync(join(dir, 'secrets')).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(dir, 'secrets', 'redis.acl'), 'utf8')).toBe(redisAclFile(secrets));
  });
});
