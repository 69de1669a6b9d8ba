import { readFileSync } from 'node:fs';
import { ConfigError } from '@stickygw/gateway';
import { serveGateway } from '../shared/serve-gateway.js';
import { ApiKeyFilter, parseKeysFile } from './api-key-filter.js';

/**
 * The gateway with an API-key check: the gateway's own environment and YAML, plus
 * API_KEYS_FILE (one key per line) and API_KEY_ROUTES (comma-separated route prefixes, exactly as
 * the YAML's routes, after normalisation: a leading `/`, no trailing `*`).
 */
await serveGateway((config) => {
  const problems: string[] = [];
  const file = process.env.API_KEYS_FILE?.trim() ?? '';
  const prefixes = (process.env.API_KEY_ROUTES ?? '')
    .split(',')
    .map((prefix) => prefix.trim())
    .filter((prefix) => prefix !== '');
  let keys: string[] = [];
  if (file === '') {
    problems.push('API_KEYS_FILE is required');
  } else {
    try {
      keys = parseKeysFile(readFileSync(file, 'utf8'));
      if (keys.length === 0) problems.push(`API_KEYS_FILE: ${file} holds no key`);
    } catch (error) {
      problems.push(`API_KEYS_FILE: cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`);
    }
  }
  if (prefixes.length === 0) problems.push('API_KEY_ROUTES is required (comma-separated route prefixes)');
  const known = new Set(config.routes.map((route) => route.prefix));
  for (const prefix of prefixes) {
    if (!known.has(prefix))
      problems.push(`API_KEY_ROUTES: no route has the prefix ${JSON.stringify(prefix)}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { headerFilters: [new ApiKeyFilter(keys, prefixes)] };
});
