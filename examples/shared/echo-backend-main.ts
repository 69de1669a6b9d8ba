import * as grpc from '@grpc/grpc-js';
import { ECHO_SERVICE, serveEcho } from './echo-service.js';

/**
 * A backend process of the examples: BACKEND_NAME (the name it answers with), SERVICE (the gRPC
 * service name, default example.v1.Echo), PORT (default 0: any free port). Logs one
 * `{"msg":"listening","port":N}` line; HOST (default 127.0.0.1) must be a loopback address; SIGTERM/SIGINT stop it.
 */
const server = new grpc.Server();
const port = await serveEcho(server, {
  name: process.env.BACKEND_NAME ?? 'backend',
  service: process.env.SERVICE ?? ECHO_SERVICE,
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? '0'),
});
console.log(JSON.stringify({ msg: 'listening', port, backend: process.env.BACKEND_NAME }));
const stop = (): void => server.tryShutdown(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
