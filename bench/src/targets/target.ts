import type { ManagedProcess } from '@stickygw/testkit';

/**
 * One thing the bench sends load to: the backend itself or a proxy in front of it. Created by a
 * `start*Target` function, which returns only once a real gRPC call through it has succeeded.
 */
export interface Target {
  /** Stable key in the JSON output: `direct`, `gateway`, `gateway-auth-sticky`, `nginx`, ... */
  readonly id: string;
  /** Human name for the table. */
  readonly label: string;
  readonly port: number;
  /** `:path` h2load and the bench clients call. */
  readonly path: string;
  /** Extra request headers (the auth + sticky route's token and session id). */
  readonly headers: Readonly<Record<string, string>>;
  /** The proxy process whose CPU and RSS are measured; undefined for the backend direct. */
  readonly proxyPid: number | undefined;
  /**
   * The process that serves the target (the backend's for `direct`): once it has exited the target
   * is gone, and the bench reports it instead of timing out on every later run.
   */
  readonly process?: ManagedProcess;
  stop(): Promise<void>;
}

/** The `:path` every target is called with; the gateway routes on its prefix. */
export const PLAIN_PATH = '/bench.Echo/Plain';
export const STICKY_PATH = '/bench.Echo/Sticky';
export const SPREAD_PATH = '/bench.Echo/Spread';
