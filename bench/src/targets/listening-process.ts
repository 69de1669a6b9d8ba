import { ManagedProcess, type ProcessSpec } from '@stickygw/testkit';

export interface ListeningProcess {
  readonly process: ManagedProcess;
  readonly port: number;
}

/** Starts a process that logs `{"msg":"listening",...,"port":N}` and waits for that line; stops it if it never comes. */
export async function startListeningProcess(spec: ProcessSpec): Promise<ListeningProcess> {
  const started = ManagedProcess.start(spec);
  try {
    return { process: started, port: await started.listeningPort() };
  } catch (error) {
    await started.stop(1_000);
    throw error;
  }
}
