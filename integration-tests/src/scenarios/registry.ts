import { basicWorkflow } from './basic-workflow.js';
import { gatewayErrorUnauthenticated } from './gateway-error-unauthenticated.js';
import { gatewayErrorUnavailable } from './gateway-error-unavailable.js';
import { loginErrors } from './login-errors.js';
import { myserviceAuthenticationErrors } from './myservice-authentication-errors.js';
import { myserviceShutdownErrors } from './myservice-shutdown-errors.js';
import { noInstancesAvailable } from './no-instances-available.js';
import type { ScenarioFn } from './scenario-context.js';
import { sessionTransfer } from './session-transfer.js';
import { stickySession } from './sticky-session.js';
import { streamSubscription } from './stream-subscription.js';
import { streamSubscriptionMyserviceStop } from './stream-subscription-myservice-stop.js';
import { systemOverload } from './system-overload.js';

export interface ScenarioDefinition {
  readonly name: string;
  readonly run: ScenarioFn;
  /**
   * The reference's timeout, capped at the 60 s its runner actually allowed (REFERENCE.md 8.24).
   */
  readonly timeoutMs: number;
  /** Injects faults, so it needs a stack driver. */
  readonly needsDriver: boolean;
}

/** The twelve scenarios of REFERENCE.md 7.3, in the reference's order (`--list` prints this order). */
export const SCENARIOS: readonly ScenarioDefinition[] = [
  { name: 'basic_workflow', run: basicWorkflow, timeoutMs: 30_000, needsDriver: false },
  { name: 'login_errors', run: loginErrors, timeoutMs: 30_000, needsDriver: false },
  { name: 'sticky_session', run: stickySession, timeoutMs: 60_000, needsDriver: false },
  { name: 'stream_subscription', run: streamSubscription, timeoutMs: 60_000, needsDriver: false },
  {
    name: 'stream_subscription_myservice_stop',
    run: streamSubscriptionMyserviceStop,
    timeoutMs: 60_000,
    needsDriver: true,
  },
  { name: 'session_transfer', run: sessionTransfer, timeoutMs: 60_000, needsDriver: false },
  {
    name: 'myservice_authentication_errors',
    run: myserviceAuthenticationErrors,
    timeoutMs: 60_000,
    needsDriver: false,
  },
  { name: 'myservice_shutdown_errors', run: myserviceShutdownErrors, timeoutMs: 60_000, needsDriver: false },
  { name: 'no_instances_available', run: noInstancesAvailable, timeoutMs: 60_000, needsDriver: false },
  { name: 'system_overload', run: systemOverload, timeoutMs: 60_000, needsDriver: false },
  {
    name: 'gateway_error_unauthenticated',
    run: gatewayErrorUnauthenticated,
    timeoutMs: 30_000,
    needsDriver: false,
  },
  { name: 'gateway_error_unavailable', run: gatewayErrorUnavailable, timeoutMs: 60_000, needsDriver: true },
];

export function findScenario(name: string): ScenarioDefinition | undefined {
  return SCENARIOS.find((scenario) => scenario.name === name);
}
