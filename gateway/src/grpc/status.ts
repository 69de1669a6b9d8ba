/** gRPC status codes (https://github.com/grpc/grpc/blob/master/doc/statuscodes.md). */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type StatusCode = (typeof Status)[keyof typeof Status];

/** The exact client-visible messages of the statuses the gateway itself produces (REFERENCE.md 6.13). */
export const GatewayMessage = {
  methodNotRouted: 'method not routed',
  missingSessionId: 'missing session-id',
  missingOrInvalidToken: 'missing or invalid token',
  allInstancesBusy: 'all instances are busy',
  backendUnavailable: 'backend service unavailable',
} as const;
