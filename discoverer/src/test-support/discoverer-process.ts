import { fileURLToPath } from 'node:url';
import { ManagedProcess } from '@stickygw/testkit';

const MAIN_JS = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** `node discoverer/dist/main.js` with exactly the given environment (plus PATH and the like). */
export function startDiscovererProcess(env: Record<string, string>): ManagedProcess {
  return ManagedProcess.start({ name: 'discoverer', command: process.execPath, args: [MAIN_JS], env });
}
