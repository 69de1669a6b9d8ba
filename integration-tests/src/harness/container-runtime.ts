export interface RuntimeProbe {
  readonly available: boolean;
  /** Why not, when unavailable (shown as the skip reason). */
  readonly reason: string;
}

/**
 * Asks testcontainers once whether a container runtime answers. Without one it rejects within
 * milliseconds ("Could not find a working container runtime strategy"); the deadline only guards
 * against a runtime socket that accepts but never answers.
 */
export async function probeContainerRuntime(timeoutMs = 3_000): Promise<RuntimeProbe> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const client = await Promise.race([getContainerRuntimeClient(), deadline]);
    return { available: true, reason: `container runtime ${client.info.containerRuntime.host}` };
  } catch (error) {
    return {
      available: false,
      reason: `no container runtime: ${error instanceof Error ? error.message : String(error)}`,
    };
  } finally {
    clearTimeout(timer);
  }
}
