import { listeningPort, type ManagedProcess, spawnManaged } from '../managed-process.js';
import { benchScript } from '../paths.js';

export interface EchoProcess {
  readonly process: ManagedProcess;
  readonly port: number;
}

/** The echo backend in a process of its own, so its CPU is not the proxy's and it can be killed. */
export async function startEchoProcess(instanceId?: string): Promise<EchoProcess> {
  const started = await spawnManaged<number>({
    name: `echo backend${instanceId === undefined ? '' : ` ${instanceId}`}`,
    command: process.execPath,
    args: [benchScript('echo-backend-main.js')],
    env: { ...process.env, PORT: '0', ...(instanceId === undefined ? {} : { INSTANCE_ID: instanceId }) },
    readyLine: listeningPort,
  });
  return { process: started.process, port: started.ready as number };
}
