import type { ProcessSpec } from '@stickygw/testkit';
import { REPO_ROOT } from './repo-paths.js';
import type { StackState } from './stack-state.js';
import type { StartedProcessStack } from './started-process-stack.js';

/** Every stack process writes to a log file; the state file names it. */
function logFileOf(spec: ProcessSpec): string {
  if (spec.logFile === undefined) throw new Error(`${spec.name} has no log file`);
  return spec.logFile;
}

/** The state file content describing a running local stack owned by process `ownerPid`. */
export async function localStackState(stack: StartedProcessStack, ownerPid: number): Promise<StackState> {
  const pods = await stack.workerPods();
  const processes = stack.processes();
  return {
    mode: 'local',
    pid: ownerPid,
    gatewayAddress: stack.gatewayAddress,
    discovererUrl: stack.discovererUrl,
    ...(stack.secured ? { discovererTokenFile: stack.discovererTokenFile } : {}),
    jwtSecret: stack.jwtSecret,
    logDir: stack.logDir,
    processes: processes.map((process) => ({
      name: process.name,
      pid: process.pid,
      logFile: logFileOf(process.spec),
    })),
    workers: pods.map((pod) => {
      const spec = stack.workerSpec(pod);
      const process = processes.find((candidate) => candidate.name === pod);
      if (process === undefined) throw new Error(`no process for ${pod}`);
      return {
        pod,
        pid: process.pid,
        port: stack.workerPort(pod),
        logFile: logFileOf(spec),
        command: spec.command,
        args: spec.args ?? [],
        env: spec.env ?? {},
        cwd: spec.cwd ?? REPO_ROOT,
      };
    }),
  };
}
