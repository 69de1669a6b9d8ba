import { createServer, type Server, type Socket } from 'node:net';
import {
  type ConnectionHandler,
  type ConnectionLimits,
  type ConnectionLog,
  Http2Connection,
  type LocalSettings,
} from './connection.js';

export interface H2ServerOptions {
  readonly settings?: Partial<LocalSettings>;
  readonly limits?: Partial<ConnectionLimits>;
  readonly log?: ConnectionLog;
}

/**
 * A cleartext (prior knowledge) HTTP/2 server on a TCP port: one `Http2Connection` per socket, every
 * connection sharing `handler`. The gateway's listener adds its own admission (HTTP/1 sniffing,
 * handshake and idle timeouts) on top of `Http2Connection`; this class is the plain form, for tests
 * and tools.
 */
export class H2Server {
  private readonly tcp: Server;
  readonly connections = new Set<Http2Connection>();

  constructor(
    private readonly handler: ConnectionHandler,
    private readonly options: H2ServerOptions = {},
  ) {
    this.tcp = createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /** Listens on `host:port` (port 0 = any free one); resolves with the bound port. */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(port, host, () => {
        this.tcp.off('error', reject);
        const address = this.tcp.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  /** Graceful close of every connection, then of the port; what is left after `graceMs` is destroyed. */
  async close(graceMs = 1000): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const connection of this.connections) connection.close();
    const deadline = Date.now() + graceMs;
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const connection of this.connections) connection.destroy();
    await stopped;
  }

  private accept(socket: Socket): void {
    const user = this.handler;
    const connections = this.connections;
    const connection = new Http2Connection(
      socket,
      { role: 'server', settings: this.options.settings, limits: this.options.limits, log: this.options.log },
      {
        onStream: user.onStream?.bind(user),
        onHeadersTooLarge: user.onHeadersTooLarge?.bind(user),
        onRemoteSettings: user.onRemoteSettings?.bind(user),
        onGoaway: user.onGoaway?.bind(user),
        onIdle: user.onIdle?.bind(user),
        onClose(closed, end) {
          connections.delete(closed);
          user.onClose?.(closed, end);
        },
      },
    );
    connections.add(connection);
  }
}
