import { ConfigError } from '@stickygw/gateway';
import { serveGateway } from '../shared/serve-gateway.js';
import { JwksTokenValidator } from './jwks-token-validator.js';

/**
 * The gateway checking RS256/ES256 tokens against a JWKS file on `authorization: required` routes:
 * the gateway's own environment and YAML (JWT_SECRET is not needed), plus JWKS_PATH and
 * JWKS_REFRESH_MS (default 1000).
 */
await serveGateway(
  () => {
    const path = process.env.JWKS_PATH?.trim() ?? '';
    const refreshMs = Number(process.env.JWKS_REFRESH_MS?.trim() || '1000');
    const problems: string[] = [];
    if (path === '') problems.push('JWKS_PATH is required');
    if (!Number.isInteger(refreshMs) || refreshMs < 1)
      problems.push(
        `JWKS_REFRESH_MS must be a positive integer, got ${JSON.stringify(process.env.JWKS_REFRESH_MS)}`,
      );
    if (problems.length > 0) throw new ConfigError(problems);
    let validator: JwksTokenValidator;
    try {
      validator = new JwksTokenValidator(path, {
        refreshMs,
        onReloadFailed: (error) =>
          process.stderr.write(`JWKS_PATH: reload failed, keeping the last keys: ${error}\n`),
      });
    } catch (error) {
      throw new ConfigError([`JWKS_PATH: cannot load ${path}: ${(error as Error).message}`]);
    }
    return { tokenValidator: validator };
  },
  { requireJwtSecret: false },
);
