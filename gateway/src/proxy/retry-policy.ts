import type { Cluster } from '../cluster/cluster.js';
import { backendUnavailable, type GatewayError } from '../grpc/gateway-error.js';

/**
 * How many upstream streams one call may use (REFERENCE.md 6.11, 6.12 and the rewrite notes):
 * on failover (dynamic) clusters, up to RETRY_COUNT attempts per opening and at most RETRY_COUNT
 * transfers per call; static clusters get one attempt and no transfer.
 */
export interface RetryPolicy {
  readonly attemptsPerOpening: number;
  readonly maxTransfers: number;
}

const SINGLE_ATTEMPT: RetryPolicy = Object.freeze({ attemptsPerOpening: 1, maxTransfers: 0 });

export function retryPolicyFor(cluster: Cluster, retryCount: number): RetryPolicy {
  return cluster.failover
    ? Object.freeze({ attemptsPerOpening: retryCount, maxTransfers: retryCount })
    : SINGLE_ATTEMPT;
}

/**
 * Another attempt is safe only after a transport failure (the upstream never answered with a
 * status, so nothing was decided), and only while the policy allows one.
 */
export function mayRetryOpening(error: GatewayError, attemptsLeft: number): boolean {
  return attemptsLeft > 0 && error.isTransportFailure;
}

/**
 * The outcome when the balancer has no candidate left (REFERENCE.md 6.11, rewrite): after at least
 * one transport failure in this call, UNAVAILABLE `backend service unavailable` (the instances died),
 * otherwise the balancer's own answer (RESOURCE_EXHAUSTED `all instances are busy`, or the missing
 * sticky key).
 */
export function outcomeWithoutCandidate(pickError: GatewayError, transportFailures: number): GatewayError {
  return transportFailures > 0 ? backendUnavailable('retries_exhausted') : pickError;
}
