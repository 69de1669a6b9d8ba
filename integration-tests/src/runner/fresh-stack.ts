import { ComposeStack } from '../harness/compose-stack.js';
import { ProcessStack } from '../harness/process-stack.js';
import type { StackDriver } from '../harness/stack-driver.js';

/** A stack started for one scenario, whichever driver runs it. */
export interface FreshStack {
  readonly description: string;
  readonly gatewayAddress: string;
  readonly jwtSecret: string;
  readonly driver: StackDriver;
  /** Where the log files are, when they are files. */
  readonly logDir: string | undefined;
  /** Stops everything; the log files are deleted unless `keepLogs`. */
  stop(keepLogs: boolean): Promise<void>;
}

export type StackKind = 'process' | 'compose';

export interface FreshStackOptions {
  readonly kind: StackKind;
  readonly composeFile: string;
  readonly onProgress: (line: string) => void;
}

export async function startFreshStack(options: FreshStackOptions): Promise<FreshStack> {
  if (options.kind === 'compose') {
    const stack = await new ComposeStack(options.composeFile).withProgress(options.onProgress).start();
    return {
      description: `docker compose project ${stack.projectName}`,
      gatewayAddress: stack.gatewayAddress,
      jwtSecret: stack.jwtSecret,
      driver: stack,
      logDir: undefined,
      stop: () => stack.stop(),
    };
  }
  const stack = await new ProcessStack().securedIfRequested().withProgress(options.onProgress).start();
  return {
    description: stack.secured ? 'local processes, secured (ITEST_SECURED)' : 'local processes',
    gatewayAddress: stack.gatewayAddress,
    jwtSecret: stack.jwtSecret,
    driver: stack,
    logDir: stack.logDir,
    stop: async (keepLogs) => {
      const stopped = await stack.stop();
      if (!keepLogs) stopped.removeLogs();
    },
  };
}
