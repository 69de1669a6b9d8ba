import { startEchoBackend } from './echo-backend.js';

/**
 * Process entry of the echo backend: `PORT` (default 0 = free port), `LISTEN_HOST` (127.0.0.1),
 * `INSTANCE_ID` (optional),
 * `WINDOW_BYTES` (optional receive window, see EchoBackendOptions.windowBytes). Prints one JSON line `{"msg":"listening","port":N}` once it accepts calls.
 */
const rawPort = process.env.PORT ?? '0';
const port = Number(rawPort);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`PORT must be an integer 0-65535, got "${rawPort}"\n`);
  process.exit(1);
}
const instanceId = process.env.INSTANCE_ID;
const rawWindow = process.env.WINDOW_BYTES;
const windowBytes = rawWindow === undefined || rawWindow === '' ? undefined : Number(rawWindow);
if (
  windowBytes !== undefined &&
  (!Number.isInteger(windowBytes) || windowBytes < 65_535 || windowBytes > 2 ** 31 - 1)
) {
  process.stderr.write(`WINDOW_BYTES must be an integer 65535-2147483647, got "${rawWindow}"\n`);
  process.exit(1);
}
const backend = await startEchoBackend({
  port,
  host: process.env.LISTEN_HOST ?? '127.0.0.1',
  ...(instanceId ? { instanceId } : {}),
  ...(windowBytes === undefined ? {} : { windowBytes }),
});
process.stdout.write(`${JSON.stringify({ msg: 'listening', port: backend.port, pid: process.pid })}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void backend.close().then(() => process.exit(0));
  });
}
