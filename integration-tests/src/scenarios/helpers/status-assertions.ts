import { type ServiceError, status } from '@grpc/grpc-js';
import { ScenarioFailure } from '../scenario-context.js';
import type { CallResult } from './grpc-calls.js';

const STATUS_NAMES = new Map<number, string>(
  Object.entries(status)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, code]) => [code, name]),
);

/** `PERMISSION_DENIED (7)` */
export function codeName(code: number): string {
  return `${STATUS_NAMES.get(code) ?? 'UNKNOWN_CODE'} (${code})`;
}

/** `PERMISSION_DENIED (7) "Server session is not set"` */
export function describeError(error: Pick<ServiceError, 'code' | 'details'>): string {
  return `${codeName(error.code)} ${JSON.stringify(error.details)}`;
}

/** The call's error; fails (naming `what`) when it succeeded. */
export function expectError<T>(result: CallResult<T>, what: string): ServiceError {
  if (result.ok) throw new ScenarioFailure(`${what}: expected an error, but the call succeeded`);
  return result.error;
}

/** The call must fail with `code`, and with exactly `message` when one is given. */
export function expectStatus<T>(
  result: CallResult<T>,
  what: string,
  code: number,
  message?: string,
): ServiceError {
  const error = expectError(result, what);
  const expected = message === undefined ? codeName(code) : describeError({ code, details: message });
  if (error.code !== code || (message !== undefined && error.details !== message)) {
    throw new ScenarioFailure(`${what}: expected ${expected}, got ${describeError(error)}`);
  }
  return error;
}

/** The call's value; fails (naming `what`) with the status when it did not succeed. */
export function expectOk<T>(result: CallResult<T>, what: string): T {
  if (!result.ok) throw new ScenarioFailure(`${what} failed: ${describeError(result.error)}`);
  return result.value;
}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ScenarioFailure(message);
}
