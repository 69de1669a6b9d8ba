import {
  ConfigError,
  createGateway,
  createLogger,
  type GatewayDeps,
  type LoadConfigOptions,
  loadGatewayConfig,
  PinoAccessLog,
} from '@stickygw/gateway';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The composition root every example's `main.ts` shares, on the package's public API only: the
 * gateway's environment and YAML (gateway/README.md), `createGateway` with the example's
 * extensions, SIGTERM/SIGINT drain then exit 0. A wrong configuration exits 1 naming every problem.
 * `extensions` gets the loaded config, for extensions built from it.
 */
export async function serveGateway(
  extensions: (config: ReturnType<typeof loadGatewayConfig>) => GatewayDeps,
  options: LoadConfigOptions = {},
): Promise<void> {
  let config: ReturnType<typeof loadGatewayConfig>;
  let deps: GatewayDeps;
  const level = process.env.LOG_LEVEL?.trim() || 'info';
  try {
    if (!LOG_LEVELS.includes(level)) {
      throw new ConfigError([
        `LOG_LEVEL must be one of ${LOG_LEVELS.join('|')}, got ${JSON.stringify(level)}`,
      ]);
    }
    config = loadGatewayConfig(process.env, options);
    deps = extensions(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(
      ['failed to load configuration', ...error.problems.map((p) => `  ${p}`), ''].join('\n'),
    );
    process.exit(1);
  }
  const logger = createLogger({ level });
  const gateway = createGateway(config, {
    logger,
    accessLog: process.env.ACCESS_LOG === 'false' ? undefined : new PinoAccessLog(level),
    ...deps,
  });
  const stop = (): void => {
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await gateway.start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? 'address already in use' : (error as Error).message;
    await gateway.close(0).catch(() => undefined);
    process.stderr.write(`failed to listen on ${config.host}:${config.port}: ${reason}\n`);
    process.exit(1);
  }
}
