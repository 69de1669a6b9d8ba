import { benchScript } from '../paths.js';
import { type ListeningProcess, startListeningProcess } from './listening-process.js';

export type EchoProcess = ListeningProcess;

/** The echo backend in a process of its own, so its CPU is not the proxy's and it can be killed. */
export async function startEchoProcess(instanceId?: string): Promise<EchoProcess> {
  return startListeningProcess({
    name: `echo backend${instanceId === undefined ? '' : ` ${instanceId}`}`,
    command: process.execPath,
    args: [benchScript('echo-backend-main.js')],
    env: { PORT: '0', ...(instanceId === undefined ? {} : { INSTANCE_ID: instanceId }) },
  });
}
