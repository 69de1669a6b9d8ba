import { Metadata, type ServiceError, type status } from '@grpc/grpc-js';

/** A status a handler hands to grpc-js: the client sees exactly `code` and `message`. */
export interface RpcError {
  readonly code: status;
  readonly message: string;
}

/** Converts to the `ServiceError` shape grpc-js sends as the call's status. */
export function toServiceError(error: RpcError): ServiceError {
  return Object.assign(new Error(error.message), {
    code: error.code,
    details: error.message,
    metadata: new Metadata(),
  });
}
