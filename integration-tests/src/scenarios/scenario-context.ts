import type { MyServiceAPIClient } from '@stickygw/proto';
import type { StackDriver } from '../harness/stack-driver.js';

/** What a scenario gets: where the gateway is, how to log in, and (maybe) how to inject faults. */
export interface ScenarioContext {
  /** `host:port` of the gateway (plaintext). */
  readonly gatewayAddress: string;
  readonly username: string;
  readonly password: string;
  /** The stack's `JWT_SECRET`; the expired-token case signs its own token with it. */
  readonly jwtSecret: string;
  /** Fault operations; `null` against an external stack that exposes none. */
  readonly driver: StackDriver | null;
  /**
   * True when the stack was started for this scenario alone (3 workers, none bound), so the
   * scenario may assert the exact outcome the reference promises for a fresh stack.
   */
  readonly freshStack: boolean;
  /** Aborted when the scenario's time is up. */
  readonly signal: AbortSignal;
  /** A new plaintext channel to the gateway, closed by the runner when the scenario ends. */
  client(): MyServiceAPIClient;
  /** A progress line (printed by the CLI, kept in the test output by vitest). */
  log(line: string): void;
}

export type ScenarioFn = (ctx: ScenarioContext) => Promise<void>;

/** A scenario failed its assertion; the message says what was expected and what came back. */
export class ScenarioFailure extends Error {
  override readonly name = 'ScenarioFailure';
}

/** The scenarios that inject faults call this first: they cannot run without a driver. */
export function requireDriver(ctx: ScenarioContext, scenario: string): StackDriver {
  if (ctx.driver === null) {
    throw new ScenarioFailure(
      `${scenario} injects faults (it stops worker processes) and needs a stack driver, but the stack at ` +
        `${ctx.gatewayAddress} exposes none: run it without --gateway/GATEWAY_ADDR so it starts its own stack, ` +
        'or against a stack started on this machine by `make up` (local mode)',
    );
  }
  return ctx.driver;
}
