import { GatewayError } from '../grpc/gateway-error.js';
import { GatewayMessage, Status } from '../grpc/status.js';
import type { SettledPick } from './balancer.js';

// Allocated once: a flood of refused calls must not pay for an Error (and its stack) each.

/** Empty instance list, or every instance bound to another key (REFERENCE.md 6.13). */
export const NO_FREE_ENDPOINT: SettledPick = Object.freeze({
  type: 'fail',
  error: new GatewayError(Status.RESOURCE_EXHAUSTED, 'no_free_endpoint', GatewayMessage.allInstancesBusy),
});

/** The sticky route's header is missing or empty (REFERENCE.md 6.9 step 1). */
export const MISSING_STICKY_KEY: SettledPick = Object.freeze({
  type: 'fail',
  error: new GatewayError(Status.UNAUTHENTICATED, 'missing_sticky_key', GatewayMessage.missingOrInvalidToken),
});

/**
 * The session is bound, in the shared session store, to an instance this gateway does not list
 * (another replica's discovery is ahead, or this one set the instance aside): unavailable from here.
 */
export const BOUND_ENDPOINT_UNLISTED: SettledPick = Object.freeze({
  type: 'fail',
  error: new GatewayError(Status.UNAVAILABLE, 'bound_endpoint_unlisted', GatewayMessage.backendUnavailable),
});
