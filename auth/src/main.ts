import { loadConfigOrExit, refuseToStart } from '@stickygw/servicekit';
import { startAuthService } from './auth-service.js';
import { loadConfig } from './config/load-config.js';
import { routeGrpcLogs } from './grpc/grpc-logging.js';
import { createLogger } from './logger.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit(() => loadConfig(process.env));
  const logger = createLogger(config.logLevel);
  routeGrpcLogs(logger);
  let service: Awaited<ReturnType<typeof startAuthService>>;
  try {
    service = await startAuthService(config, logger);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    logger.error({ err: error }, 'start-up failed');
    refuseToStart([`cannot listen on ${config.listenHost}:${config.port}: ${reason}`]);
  }
  logger.info({ host: config.listenHost, port: service.port }, 'listening');

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    service.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

await main();
