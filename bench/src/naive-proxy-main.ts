import { startNaiveProxy } from './naive-proxy.js';

/**
 * Process entry of the naive proxy: `UPSTREAM` (host:port, required), `PORT` (default 0 = free
 * port), `LISTEN_HOST` (127.0.0.1). Prints `{"msg":"listening","port":N}` once it accepts calls.
 */
const upstream = process.env.UPSTREAM;
if (upstream === undefined || !/^[^:]+:\d+$/.test(upstream)) {
  process.stderr.write(`UPSTREAM must be host:port, got "${upstream ?? ''}"\n`);
  process.exit(1);
}
const rawPort = process.env.PORT ?? '0';
const port = Number(rawPort);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`PORT must be an integer 0-65535, got "${rawPort}"\n`);
  process.exit(1);
}
const proxy = await startNaiveProxy({ upstream, port, host: process.env.LISTEN_HOST ?? '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ msg: 'listening', port: proxy.port, pid: process.pid })}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void proxy.close().then(() => process.exit(0));
  });
}
