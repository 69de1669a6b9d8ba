import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { referenceGatewayYaml } from '@stickygw/testkit';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LOCAL_STACK } from '../harness/local-stack.js';
import { REPO_ROOT } from '../harness/repo-paths.js';

const LOADER = join(REPO_ROOT, 'gateway', 'dist', 'config', 'load-config.js');

interface LoadedConfig {
  readonly routes: readonly {
    prefix: string;
    cluster: string;
    authorization: string;
    balancer: { type: string; header?: string };
  }[];
  readonly clusters: readonly (
    | { type: 'static'; id: string; address: string }
    | { type: 'dynamic'; id: string; discovererUrl: string; discovererIntervalMs: number }
  )[];
  readonly default: { action: string };
}

/** The gateway's own loader, from its build output (the gateway is not a dependency of this workspace). */
async function loadWithGateway(file: string): Promise<LoadedConfig> {
  if (!existsSync(LOADER)) throw new Error(`${LOADER} is missing: build the gateway first (make build)`);
  const { loadGatewayConfig } = (await import(pathToFileURL(LOADER).href)) as {
    loadGatewayConfig: (env: Record<string, string>) => LoadedConfig;
  };
  return loadGatewayConfig({
    SERVICE_PORT_GRPC: '10000',
    CONFIG_PATH: file,
    JWT_SECRET: 'dev-secret-change-in-prod',
    RETRY_COUNT: '3',
    RETRY_TIMEOUT_MS: '5000',
  });
}

/** The reference topology (REFERENCE.md 6.2) as the compose network names it. */
const DOCKER_REFERENCE = referenceGatewayYaml({
  authAddress: 'myauth:5001',
  discovererUrl: 'http://mydiscoverer:8080',
  discovererIntervalMs: 5000,
}).document();
const REFERENCE_ROUTES = DOCKER_REFERENCE.routes;

describe('config/gateway.docker.yaml', () => {
  const file = join(REPO_ROOT, 'config', 'gateway.docker.yaml');

  it('is the reference compose configuration (REFERENCE.md 6.2) with the shared Redis session store', () => {
    expect(parse(readFileSync(file, 'utf8'))).toEqual({
      ...DOCKER_REFERENCE,
      session_store: { type: 'redis', url: 'redis://redis:6379' },
    });
  });

  it("loads with the gateway's own loadGatewayConfig", async () => {
    const config = await loadWithGateway(file);
    expect(config.default.action).toBe('error');
    expect(config.routes).toMatchObject(REFERENCE_ROUTES);
    expect(config.clusters).toMatchObject([
      { type: 'static', id: 'myauth', address: 'myauth:5001' },
      {
        type: 'dynamic',
        id: 'my_service',
        discovererUrl: 'http://mydiscoverer:8080',
        discovererIntervalMs: 5000,
      },
    ]);
  });
});

describe('config/gateway.local.yaml', () => {
  it("loads with the gateway's own loadGatewayConfig and names the local stack's fixed ports", async () => {
    const config = await loadWithGateway(LOCAL_STACK.gatewayConfigFile);
    expect(config.routes).toMatchObject(REFERENCE_ROUTES);
    expect(config.clusters).toMatchObject([
      { type: 'static', id: 'myauth', address: `127.0.0.1:${LOCAL_STACK.authPort}` },
      {
        type: 'dynamic',
        id: 'my_service',
        discovererUrl: `http://127.0.0.1:${LOCAL_STACK.discovererPort}`,
        discovererIntervalMs: 1000,
      },
    ]);
  });
});
