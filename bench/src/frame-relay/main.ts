import { startFrameRelay } from './frame-relay.js';

/**
 * Process entry of the frame relay prototype: `UPSTREAM` (host:port, required), `PORT` (default 0),
 * `LISTEN_HOST` (127.0.0.1). Prints `{"msg":"listening","port":N}` once it accepts connections.
 */
const upstream = process.env.UPSTREAM ?? '';
const rawPort = process.env.PORT ?? '0';
const port = Number(rawPort);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`PORT must be an integer 0-65535, got "${rawPort}"\n`);
  process.exit(1);
}
let relay: Awaited<ReturnType<typeof startFrameRelay>>;
try {
  relay = await startFrameRelay({ upstream, port, host: process.env.LISTEN_HOST ?? '127.0.0.1' });
} catch (error) {
  process.stderr.write(`UPSTREAM: ${(error as Error).message}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ msg: 'listening', port: relay.port, pid: process.pid })}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void relay.close().then(() => process.exit(0));
  });
}
