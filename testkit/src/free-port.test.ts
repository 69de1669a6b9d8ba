import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { getFreePort, isPortFree } from './free-port.js';

describe('isPortFree', () => {
  let holder: Server | undefined;

  afterEach(async () => {
    await new Promise((resolve) => (holder === undefined ? resolve(undefined) : holder.close(resolve)));
    holder = undefined;
  });

  it('is true for a port nobody listens on, and leaves it free', async () => {
    const port = await getFreePort();
    expect(await isPortFree(port)).toBe(true);
    expect(await isPortFree(port)).toBe(true);
  });

  it('is false while a server listens on the port', async () => {
    const port = await getFreePort();
    const server = createServer();
    holder = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    expect(await isPortFree(port)).toBe(false);
  });
});
