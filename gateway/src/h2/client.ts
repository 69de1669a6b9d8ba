import { connect as connectTcp } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type ConnectionEnd,
  type ConnectionHandler,
  type ConnectionLimits,
  type ConnectionLog,
  Http2Connection,
  type LocalSettings,
} from './connection.js';

export interface H2ConnectOptions {
  readonly host: string;
  readonly port: number;
  /** TCP connect plus the peer's first SETTINGS must happen within this time. */
  readonly timeoutMs?: number;
  readonly settings?: Partial<LocalSettings>;
  readonly limits?: Partial<ConnectionLimits>;
  readonly log?: ConnectionLog;
  /** Another transport (TLS with ALPN h2, a test pipe) instead of a TCP connect to host:port. */
  readonly socket?: Duplex;
}

/**
 * Opens a client connection: TCP connect, preface and SETTINGS, and resolves once the peer's SETTINGS
 * arrived (a port that accepts TCP but does not speak HTTP/2 fails here, not on the first call).
 * `handler` receives the connection's later events (GOAWAY, close).
 */
export function connectH2(
  options: H2ConnectOptions,
  handler: ConnectionHandler = {},
): Promise<Http2Connection> {
  return new Promise((resolve, reject) => {
    const socket = options.socket ?? connectTcp({ host: options.host, port: options.port, noDelay: true });
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      connection.destroy();
      reject(new Error(`connect to ${options.host}:${options.port} timed out after ${options.timeoutMs} ms`));
    }, options.timeoutMs ?? 10_000);
    timer.unref();
    const onSocketError = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      connection.destroy();
      reject(err);
    };
    socket.once('error', onSocketError);
    const connection = new Http2Connection(
      socket,
      { role: 'client', settings: options.settings, limits: options.limits, log: options.log },
      {
        onRemoteSettings(opened) {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          socket.off('error', onSocketError);
          handler.onRemoteSettings?.(opened);
          resolve(opened);
        },
        onGoaway: handler.onGoaway?.bind(handler),
        onIdle: handler.onIdle?.bind(handler),
        onClose(closed: Http2Connection, end: ConnectionEnd) {
          if (!settled) {
            settled = true;
            clearTimeout(timer);
            reject(new Error(`connection closed during the handshake: ${end.message}`));
          }
          handler.onClose?.(closed, end);
        },
      },
    );
  });
}
