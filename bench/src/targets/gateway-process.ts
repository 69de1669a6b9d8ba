import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayComponent } from '@stickygw/integration-tests';
import { GatewayYaml, type ManagedProcess } from '@stickygw/testkit';
import { REPO_ROOT } from '../paths.js';
import { PLAIN_PATH, SPREAD_PATH, STICKY_PATH } from './target.js';

const GATEWAY_MAIN = join(REPO_ROOT, 'gateway', 'dist', 'main.js');

/** The JWT secret the bench gateway verifies with and the bench signs with. */
export const BENCH_JWT_SECRET = 'bench-jwt-secret-not-for-production';

export interface GatewayProcess {
  readonly process: ManagedProcess;
  readonly port: number;
  stop(): Promise<void>;
}

export interface GatewayProcessOptions {
  /** Echo backend of the static route. */
  readonly backendPort: number;
  /** Base URL of the bench discoverer for the dynamic cluster. */
  readonly discovererUrl: string;
  /** Extra node flags (e.g. `--cpu-prof --cpu-prof-dir=...`). */
  readonly nodeArgs?: readonly string[];
  /** A Redis URL: the sticky route's bindings then live in this Redis session store. */
  readonly sessionStoreUrl?: string;
  /** Extra gateway environment (GATEWAY_WORKERS, ...). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * The routes the bench measures: `Plain` is the plain proxy path (static cluster, round robin, no
 * auth); `Sticky` adds a JWT on every call and exclusive sticky sessions on a dynamic cluster whose
 * discoverer lists many instance ids on the echo backend(s); `Spread` is the same dynamic cluster
 * round robin without auth, the fan-out over many upstream connections without the JWT and the
 * sticky lookup. The list never needs refreshing during a run.
 */
function benchGatewayYaml(options: GatewayProcessOptions): GatewayYaml {
  const yaml = new GatewayYaml();
  if (options.sessionStoreUrl !== undefined)
    yaml.sessionStore({ type: 'redis', url: options.sessionStoreUrl });
  return yaml
    .route(PLAIN_PATH, 'echo_static')
    .route(SPREAD_PATH, 'echo_dynamic')
    .route(STICKY_PATH, 'echo_dynamic', { authorization: 'required', stickyHeader: 'session-id' })
    .staticCluster('echo_static', `127.0.0.1:${options.backendPort}`)
    .dynamicCluster('echo_dynamic', options.discovererUrl, 600_000);
}

/** True when the gateway has been built (`npx tsc -b gateway/tsconfig.build.json`). */
export function gatewayBuilt(): boolean {
  return existsSync(GATEWAY_MAIN);
}

/**
 * `node gateway/dist/main.js` with the bench routes, per the runtime contract in notes/HELPERS.md:
 * access log off and LOG_LEVEL=warn so logging is not what is measured. Started as the stacks
 * start their gateway: ready once an unrouted call is answered (the contract's readiness probe).
 */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-gateway-'));
  const configPath = join(dir, 'gateway.yaml');
  await writeFile(configPath, benchGatewayYaml(options).toString());
  const gateway = gatewayComponent({
    configPath,
    jwtSecret: BENCH_JWT_SECRET,
    retryCount: 3,
    retryTimeoutMs: 2_000,
    logLevel: 'warn',
    env: { ACCESS_LOG: 'false', ...options.env },
    ...(options.nodeArgs === undefined ? {} : { nodeArgs: options.nodeArgs }),
    startupTimeoutMs: 15_000,
  });
  const stop = async () => {
    await gateway.stop(6_000);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    return { process: await gateway.start(), port: gateway.port, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
