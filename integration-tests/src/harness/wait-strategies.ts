import { connect } from 'node:net';
import { describeExit, type ManagedProcess, tail } from '@stickygw/testkit';
import { checkGrpcHealth, probeUnary } from './grpc-probe.js';

/** One look at the world: `true` when ready, otherwise what was seen (for the timeout message). */
export type Probe = () => Promise<true | string>;

/**
 * Readiness as a strategy with a deadline (testcontainers' `Wait.*`), never a sleep. The strategy
 * fails early, with the process's last log lines, when the process it waits for exits.
 */
export class WaitStrategy {
  #timeoutMs = 20_000;
  #intervalMs = 50;

  constructor(
    readonly description: string,
    private readonly probe: Probe,
  ) {}

  withStartupTimeout(timeoutMs: number): this {
    this.#timeoutMs = timeoutMs;
    return this;
  }

  withPollInterval(intervalMs: number): this {
    this.#intervalMs = intervalMs;
    return this;
  }

  async waitUntilReady(target?: ManagedProcess): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    const who = target ? `${target.name}: ` : '';
    let last = 'no answer yet';
    for (;;) {
      if (target?.exitStatus) {
        throw new Error(
          `${who}${describeExit(target.exitStatus)} before ${this.description}; last log lines:\n${tail(target.output(), 30)}`,
        );
      }
      try {
        const seen = await this.probe();
        if (seen === true) return;
        last = seen;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() >= deadline) {
        const logs = target ? `; last log lines:\n${tail(target.output(), 30)}` : '';
        throw new Error(
          `${who}timed out after ${this.#timeoutMs} ms waiting for ${this.description} (last: ${last})${logs}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, this.#intervalMs));
    }
  }
}

function redisPing(port: number): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (result: true | string) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1_000, () => done('PING timed out'));
    socket.once('error', (error) => done(error.message));
    socket.once('connect', () => socket.write('PING\r\n'));
    // A Redis that wants a password first is up all the same.
    socket.once('data', (data) =>
      done(/^(\+PONG|-NOAUTH)/.test(data.toString()) ? true : `answered ${data.toString().trim()}`),
    );
  });
}

export const Wait = {
  /** Redis answers `PING` with `+PONG` (or `-NOAUTH`, with a password). */
  forRedisPing(port: number): WaitStrategy {
    return new WaitStrategy(`redis PING on 127.0.0.1:${port}`, () => redisPing(port));
  },

  /** An HTTP GET answers `expectedStatus`. */
  forHttp(url: string, expectedStatus = 200): WaitStrategy {
    return new WaitStrategy(`GET ${url} → ${expectedStatus}`, async () => {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return response.status === expectedStatus ? true : `HTTP ${response.status}`;
    });
  },

  /** `grpc.health.v1.Health/Check` answers SERVING for the overall service. */
  forGrpcHealth(address: string): WaitStrategy {
    return new WaitStrategy(`gRPC health SERVING on ${address}`, async () => {
      const serving = await checkGrpcHealth(address, 1_000);
      return serving === 'SERVING' ? true : serving;
    });
  },

  /**
   * A call of `method` ends with gRPC status `code`: proof the server accepts calls, for servers
   * without a health service of their own (the gateway answers an unrouted method with 12).
   */
  forGrpcStatus(address: string, method: string, code: number): WaitStrategy {
    return new WaitStrategy(`${method} on ${address} → gRPC status ${code}`, async () => {
      const answer = await probeUnary(address, method, Buffer.alloc(0), 1_000);
      return answer.code === code ? true : `status ${answer.code} ${answer.details}`;
    });
  },

  forCondition(description: string, probe: Probe): WaitStrategy {
    return new WaitStrategy(description, probe);
  },
};
