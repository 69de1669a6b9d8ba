import { fileURLToPath } from 'node:url';
import { ManagedProcess } from '@stickygw/testkit';

const MAIN_PATH = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** Runs `node service/dist/main.js` with exactly `env` (plus PATH and the like), as a harness would. */
export function startWorkerProcess(env: Record<string, string>): ManagedProcess {
  return ManagedProcess.start({ name: 'worker', command: process.execPath, args: [MAIN_PATH], env });
}
