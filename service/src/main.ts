import { networkInterfaces } from 'node:os';
import { loadConfigOrExit } from '@stickygw/servicekit';
import { loadConfig } from './config/load-config.js';
import { createLogger } from './observability/logger.js';
import { Registration } from './registration/registration.js';
import { type StartedWorkerServer, startWorkerServer } from './server/worker-server.js';

/** After a MyServiceShutdown reply: time the reply gets to leave before the process ends (reference: ~200 ms). */
const SHUTDOWN_FLUSH_MS = 200;
/** On SIGTERM/SIGINT: how long in-flight calls may finish; open MyServiceSubscribe streams never do. */
const SIGNAL_GRACE_MS = 5000;

async function main(): Promise<void> {
  const config = loadConfigOrExit(
    () => loadConfig(process.env, networkInterfaces),
    (error) => [...error.problems.map((problem) => `Configuration error: ${problem}`), ...error.hints],
  );
  const logger = createLogger(config.logLevel);

  let server: StartedWorkerServer | undefined;
  let registration: Registration | undefined;
  let exiting = false;
  // Neither path unregisters: the entry lives until its TTL and the gateway detects the dead
  // instance itself (REFERENCE.md 5.5, 7.3.12).
  const exit = async (reason: string, graceMs: number): Promise<void> => {
    if (exiting) return;
    exiting = true;
    logger.info({ reason }, 'stopping');
    registration?.stop();
    await server?.stop(graceMs);
    logger.info('stopped');
    process.exit(0);
  };

  // Installed before anything is logged: a harness may signal as soon as it reads "listening", and a
  // signal that arrives before its listener exists kills the process with the default action.
  process.once('SIGTERM', () => void exit('SIGTERM', SIGNAL_GRACE_MS));
  process.once('SIGINT', () => void exit('SIGINT', SIGNAL_GRACE_MS));

  try {
    server = await startWorkerServer({
      instanceId: config.instanceId,
      jwtSecret: config.jwtSecret,
      jwtPreviousSecret: config.jwtPreviousSecret,
      subscribeIntervalMs: config.subscribeIntervalMs,
      listenHost: config.listenHost,
      port: config.port,
      logger,
      onShutdownRequested: () => void exit('MyServiceShutdown', SHUTDOWN_FLUSH_MS),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`Could not listen on ${config.listenHost}:${config.port}: ${message}\n`);
    process.exit(1);
  }
  logger.info({ port: server.port, instanceId: config.instanceId }, 'listening');

  registration = new Registration({
    discovererUrl: config.discovererUrl,
    discovererToken: config.discovererToken,
    target: {
      instanceId: config.instanceId,
      ipv4: config.advertisedIpv4,
      port: server.port,
      ttlMs: config.registrationTtlMs,
    },
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    logger,
  });
  registration.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`Fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
