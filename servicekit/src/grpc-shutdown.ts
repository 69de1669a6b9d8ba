/** The part of a grpc-js `Server` a graceful stop needs (structural, so servicekit needs no grpc-js). */
export interface ShutdownableServer {
  tryShutdown(callback: (error?: Error) => void): void;
  forceShutdown(): void;
}

/**
 * Stops taking calls and lets running ones finish; after `graceMs` cancels what is still running
 * (`onForced` is told first, e.g. to log it). Resolves once the server has stopped either way.
 */
export function shutdownGracefully(
  server: ShutdownableServer,
  graceMs: number,
  onForced?: () => void,
): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      onForced?.();
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
