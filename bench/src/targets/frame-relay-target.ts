import { listeningPort, spawnManaged } from '../managed-process.js';
import { benchScript } from '../paths.js';
import { awaitEcho } from './ready-probe.js';
import { PLAIN_PATH, type Target } from './target.js';

/** The frame-level relay prototype (bench/src/frame-relay/) in its own process. */
export async function startFrameRelayTarget(
  backendPort: number,
  probeBody: Buffer,
  nodeArgs: readonly string[] = [],
): Promise<Target> {
  const started = await spawnManaged<number>({
    name: 'frame relay prototype',
    command: process.execPath,
    args: [...nodeArgs, benchScript('frame-relay/main.js')],
    env: { ...process.env, PORT: '0', UPSTREAM: `127.0.0.1:${backendPort}` },
    readyLine: listeningPort,
  });
  const port = started.ready as number;
  try {
    await awaitEcho(started.process, port, PLAIN_PATH, probeBody);
  } catch (error) {
    await started.process.stop();
    throw error;
  }
  return {
    id: 'frame-relay',
    label: 'frame relay prototype (net.Socket)',
    port,
    path: PLAIN_PATH,
    headers: {},
    proxyPid: started.process.pid,
    stop: () => started.process.stop(),
  };
}
