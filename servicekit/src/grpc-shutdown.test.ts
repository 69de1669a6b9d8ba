import { describe, expect, it } from 'vitest';
import { type ShutdownableServer, shutdownGracefully } from './grpc-shutdown.js';

/** A server whose running calls end when the test says so. */
function fakeServer(): ShutdownableServer & { finishCalls(): void; forced: boolean } {
  let drained: (() => void) | undefined;
  return {
    forced: false,
    tryShutdown(callback) {
      drained = callback;
    },
    forceShutdown() {
      this.forced = true;
    },
    finishCalls() {
      drained?.();
    },
  };
}

describe('shutdownGracefully', () => {
  it('resolves when the running calls finish, without forcing', async () => {
    const server = fakeServer();
    const stopped = shutdownGracefully(server, 10_000);
    server.finishCalls();
    await stopped;
    expect(server.forced).toBe(false);
  });

  it('forces the shutdown after the grace period and says so first', async () => {
    const server = fakeServer();
    const told: boolean[] = [];
    await shutdownGracefully(server, 20, () => told.push(server.forced));
    expect(told).toEqual([false]);
    expect(server.forced).toBe(true);
  });
});
