import { benchScript } from '../paths.js';
import { startListeningProcess } from './listening-process.js';
import { awaitEcho } from './ready-probe.js';
import { PLAIN_PATH, type Target } from './target.js';

/** The ~60-line node:http2 proxy (bench/src/naive-proxy.ts) in its own process. */
export async function startNaiveTarget(
  backendPort: number,
  probeBody: Buffer,
  nodeArgs: readonly string[] = [],
): Promise<Target> {
  const started = await startListeningProcess({
    name: 'naive node:http2 proxy',
    command: process.execPath,
    args: [...nodeArgs, benchScript('naive-proxy-main.js')],
    env: { PORT: '0', UPSTREAM: `127.0.0.1:${backendPort}` },
  });
  const port = started.port;
  await awaitEcho(started.process, port, PLAIN_PATH, probeBody);
  return {
    id: 'naive',
    label: 'naive node:http2 proxy',
    port,
    path: PLAIN_PATH,
    headers: {},
    proxyPid: started.process.pid,
    process: started.process,
    stop: async () => {
      await started.process.stop();
    },
  };
}
